"""Panels: one candidate's interviews (an application) as its recruiter follows them, and the cards that show it.

A panel row counts changes (`version`) and says whether a refresh job is queued, so a burst of submissions
gives one card update; `lease_until` keeps two runners from updating one application's cards at once. The
message ids of the cards sent are kept to update them in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Float, Integer, String, Table, bindparam, func, or_, select, update

from bot.store.assessments import Assessments
from bot.store.schedule import Assignment, _row
from bot.store.schema import assignments, jobs, metadata

REFRESH = "panel"  # the job kind that sends or updates an application's cards
COALESCE = 2.0  # seconds a refresh waits, so a burst of changes gives one update (Feishu: 5 updates/s a message)

panels = Table(
    "panels", metadata,
    Column("application_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, default=0),  # changes recorded
    Column("queued", Integer, nullable=False, default=0),  # 1: a refresh job waits
    Column("lease_until", Float),  # a runner is updating the cards until then
    Column("nudged_at", Float),
    Column("shared_at", Float),
    Column("summarised_at", Float),
    Column("updated_at", Float, nullable=False),
)

panel_messages = Table(
    "panel_messages", metadata,
    Column("application_id", String(64), primary_key=True),
    Column("recipient", String(128), primary_key=True),
    Column("kind", String(16), primary_key=True),  # progress | summary
    Column("message_id", String(128), nullable=False),
    Column("sent_at", Float, nullable=False),
)

_APPLICATION_OF = select(assignments.c.application_id).where(assignments.c.key == bindparam("p_key"))
_QUEUE = (update(panels).where(panels.c.application_id == bindparam("p_app"))
          .values(version=panels.c.version + 1, queued=1, updated_at=bindparam("p_now")))


@dataclass(frozen=True)
class PanelState:
    """What the bot did for one application: nudged, shared with the panel, summary sent."""

    application_id: str
    version: int = 0
    nudged_at: float | None = None
    shared_at: float | None = None
    summarised_at: float | None = None


def touch(conn: Connection, insert, application_id: str, now: float, delay: float = COALESCE) -> None:  # type: ignore[no-untyped-def]
    """Count a change of the application and queue one refresh of its cards, unless one is queued already."""
    conn.execute(insert(panels).values(application_id=application_id, version=0, queued=0, updated_at=now)
                 .on_conflict_do_nothing())
    queued = conn.execute(select(panels.c.queued).where(panels.c.application_id == application_id)
                          .with_for_update()).scalar()
    conn.execute(_QUEUE, {"p_app": application_id, "p_now": now})
    if not queued:
        conn.execute(jobs.insert().values(
            kind=REFRESH, assessment_id=None, version=None, payload=json.dumps({"application": application_id}),
            status="pending", stage="start", attempts=0, run_after=now + delay, created_at=now, updated_at=now))


def touch_assessment(conn: Connection, insert, key: str, now: float) -> None:  # type: ignore[no-untyped-def]
    """A write to an assessment: refresh the cards of its application, if it belongs to one."""
    application_id = conn.execute(_APPLICATION_OF, {"p_key": key}).scalar()
    if application_id:
        touch(conn, insert, application_id, now)


class Panels(Assessments):
    """Applications as panels: their assignments, their cards' message ids, nudges and sharing."""

    def _after_write(self, conn: Connection, assessment_id: str, now: float) -> None:
        """A write to an assessment of an application refreshes the application's cards."""
        touch_assessment(conn, self._insert, assessment_id, now)

    def application(self, application_id: str) -> list[Assignment]:
        """The assignments of one application, by start time then interviewer."""
        query = (select(assignments).where(assignments.c.application_id == application_id)
                 .order_by(assignments.c.start_at, assignments.c.interviewer))
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def applications(self, recruiter: str | None = None) -> dict[str, list[Assignment]]:
        """Every application (of one recruiter, when given) with its assignments, earliest interview first."""
        query = select(assignments).where(assignments.c.application_id.isnot(None))
        if recruiter is not None:
            mine = select(assignments.c.application_id).where(assignments.c.recruiter == recruiter)
            query = query.where(assignments.c.application_id.in_(mine))
        found: dict[str, list[Assignment]] = {}
        with self._reading() as conn:
            for row in conn.execute(query.order_by(assignments.c.start_at, assignments.c.interviewer)).all():
                found.setdefault(row.application_id, []).append(_row(row))
        return found

    def find_applications(self, word: str) -> list[str]:
        """The applications a typed word names: an application id, or a candidate's name (any case)."""
        word = word.strip()
        query = (select(assignments.c.application_id).distinct()
                 .where(assignments.c.application_id.isnot(None),
                        or_(assignments.c.application_id == word,
                            func.lower(assignments.c.candidate) == word.lower())))
        with self._reading() as conn:
            return sorted(r[0] for r in conn.execute(query).all())

    def panel_state(self, application_id: str) -> PanelState:
        with self._reading() as conn:
            row = conn.execute(select(panels).where(panels.c.application_id == application_id)).first()
        if row is None:
            return PanelState(application_id)
        return PanelState(application_id, row.version, row.nudged_at, row.shared_at, row.summarised_at)

    def touch_panel(self, application_id: str, delay: float = COALESCE) -> None:
        """Queue a refresh of the application's cards (coalesced with any already queued)."""
        with self.transaction() as conn:
            touch(conn, self._insert, application_id, self.clock(), delay)

    def lease_panel(self, application_id: str, seconds: float) -> bool:
        """Take the application's cards for one refresh (the queued refresh is now this one); False if busy."""
        now = self.clock()
        with self.transaction() as conn:
            conn.execute(self._insert(panels).values(application_id=application_id, version=0, queued=0,
                                                     updated_at=now).on_conflict_do_nothing())
            taken = conn.execute(update(panels).where(
                panels.c.application_id == application_id,
                or_(panels.c.lease_until.is_(None), panels.c.lease_until <= now))
                .values(lease_until=now + seconds, queued=0, updated_at=now)).rowcount
        return bool(taken)

    def release_panel(self, application_id: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(panels).where(panels.c.application_id == application_id).values(lease_until=None))

    def mark_panel(self, application_id: str, column: str, *, unless_since: float | None = None) -> bool:
        """Set `nudged_at`, `shared_at` or `summarised_at` to now, unless it was set after `unless_since`
        (or at all, when that is None); False when it was not set now."""
        assert column in ("nudged_at", "shared_at", "summarised_at")
        now, col = self.clock(), panels.c[column]
        with self.transaction() as conn:
            conn.execute(self._insert(panels).values(application_id=application_id, version=0, queued=0,
                                                     updated_at=now).on_conflict_do_nothing())
            free = col.is_(None) if unless_since is None else or_(col.is_(None), col <= unless_since)
            return bool(conn.execute(update(panels).where(panels.c.application_id == application_id, free)
                                     .values({column: now, "updated_at": now})).rowcount)

    def panel_messages(self, application_id: str) -> dict[tuple[str, str], str]:
        """(recipient, kind) -> message id of the application's cards sent so far."""
        query = select(panel_messages).where(panel_messages.c.application_id == application_id)
        with self._reading() as conn:
            return {(r.recipient, r.kind): r.message_id for r in conn.execute(query).all()}

    def remember_message(self, application_id: str, recipient: str, kind: str, message_id: str) -> None:
        """Keep the id of a card just sent (a card sent anew replaces the one it stands for)."""
        now = self.clock()
        with self.transaction() as conn:
            new = self._insert(panel_messages).values(application_id=application_id, recipient=recipient,
                                                      kind=kind, message_id=message_id, sent_at=now)
            conn.execute(new.on_conflict_do_update(
                index_elements=[panel_messages.c.application_id, panel_messages.c.recipient, panel_messages.c.kind],
                set_={"message_id": new.excluded.message_id, "sent_at": new.excluded.sent_at}))
