"""Panels: one candidate's interviews (an application) as its recruiter follows them, and the cards that show it.

Refreshes are queued through bot/store/refresh.py; `lease_until` keeps two runners from updating one
application's cards at once. The message ids of the cards sent are kept to update them in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from bot.store.engine import Database
from bot.store.refresh import COALESCE, touch
from bot.store.schedule import Assignment, _row
from bot.store.schema import assignments, panel_messages, panels


@dataclass(frozen=True)
class PanelState:
    """What the bot did for one application: nudged, shared with the panel, summary sent."""

    application_id: str
    version: int = 0
    nudged_at: float | None = None
    shared_at: float | None = None
    summarised_at: float | None = None


class Panels(Database):
    """Applications as panels: their assignments, their cards' message ids, nudges and sharing."""

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
