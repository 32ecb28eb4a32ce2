"""What the bot knows of each assessment: its last written state, its owner and its submission versions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, String, and_, bindparam, func, select, update
from sqlalchemy.sql.dml import ReturningInsert

from bot.assessment import Assessment, Submission, changes_nothing
from bot.contract import Job, Write, decode
from bot.store.audit import Audit
from bot.store.refresh import touch_assessment
from bot.store.schema import assessments, assignments, jobs

_KNOWN = (select(assessments.c.state, assessments.c.owner, assessments.c.applied_version, assessments.c.next_version,
                 assessments.c.form_id)
          .where(assessments.c.assessment_key == bindparam("p_aid")))
_APPLIED = select(assessments.c.applied_version).where(assessments.c.assessment_key == bindparam("p_aid"))
_UNAPPLIED = (select(jobs.c.version, jobs.c.kind, jobs.c.payload)
              .where(jobs.c.assessment_key == bindparam("p_aid"),
                     jobs.c.version > bindparam("p_applied"), jobs.c.version <= bindparam("p_up_to"),
                     jobs.c.status.notin_(("dead", "discarded")))
              .order_by(jobs.c.version))
_LEASED = and_(jobs.c.id == bindparam("p_id"), jobs.c.lease_owner == bindparam("p_owner"), jobs.c.status == "running")
_TO_NOTIFY = update(jobs).where(_LEASED).values(stage="notify", log_id=bindparam("p_log_id"),
                                                updated_at=bindparam("p_now"))
_TO_DONE = update(jobs).where(_LEASED).values(stage="notify", status="done", lease_until=None,
                                              log_id=bindparam("p_log_id"), updated_at=bindparam("p_now"))
_APPLY = (update(assessments)
          .where(assessments.c.assessment_key == bindparam("p_aid"),
                 assessments.c.applied_version < bindparam("p_version"))
          .values(state=bindparam("p_state"), applied_version=bindparam("p_version"), updated_at=bindparam("p_now"),
                  form_id=func.coalesce(bindparam("p_form", type_=String), assessments.c.form_id)))
_PIN = (update(assignments)
        .where(assignments.c.key == bindparam("p_aid"), assignments.c.form_id.is_(None))
        .values(form_id=bindparam("p_form")))
_SUBMITTED = (update(assignments)  # submitted_at: the last submission, as /todo shows it
              .where(assignments.c.key == bindparam("p_aid"))
              .values(submitted_at=bindparam("p_now"), remind_at=None, updated_at=bindparam("p_now")))
_LEARN = (update(assessments)
          .where(assessments.c.assessment_key == bindparam("p_aid"), assessments.c.applied_version == 0)
          .values(state=bindparam("p_state"), updated_at=bindparam("p_now")))
_SET_OWNER = (update(assessments).where(assessments.c.assessment_key == bindparam("p_aid"))
              .values(owner=bindparam("p_owner"), updated_at=bindparam("p_now")))


@dataclass(frozen=True)
class Known:
    """What the bot knows of one assessment."""

    state: Assessment
    owner: str | None
    applied_version: int
    next_version: int
    form_id: str | None = None  # the rubric version its last write used


class Denied(Exception):
    """The assessment belongs to someone else; nothing was written."""

    def __init__(self, owner: str):
        super().__init__("owned by someone else")
        self.owner = owner


class Assessments(Audit):
    """Known state, ownership and versioned writes."""

    @cached_property
    def _take_version_sql(self) -> ReturningInsert:
        new = self._insert(assessments).values(
            assessment_key=bindparam("p_aid"), owner=bindparam("p_claimant"), state="{}", applied_version=0,
            next_version=bindparam("p_step"), updated_at=bindparam("p_now"))
        # Create the row, let the claimant own it if nobody does, count a version: one statement.
        return new.on_conflict_do_update(index_elements=[assessments.c.assessment_key], set_={
            "owner": func.coalesce(assessments.c.owner, new.excluded.owner),
            "next_version": assessments.c.next_version + new.excluded.next_version,
            "updated_at": new.excluded.updated_at,
        }).returning(assessments.c.owner, assessments.c.next_version)

    def known(self, assessment_key: str) -> Known:
        """The last successfully written state, owner and versions (empty if never seen)."""
        rows = self._look_up("known", _KNOWN, {"p_aid": assessment_key})
        if not rows:
            return Known(Assessment(), None, 0, 0)
        state, owner, applied, following, form_id = rows[0]
        return Known(Assessment.model_validate_json(state), owner, applied, following, form_id)

    def set_owner(self, assessment_key: str, owner: str) -> None:
        """Hand an assessment to `owner` (the chat's hand-over goes through `accept`, in its transaction)."""
        with self.transaction() as conn:
            self._set_owner(conn, assessment_key, owner, self.clock())

    def _set_owner(self, conn: Connection, assessment_key: str, owner: str, now: float) -> None:
        conn.execute(self._insert(assessments).values(
            assessment_key=assessment_key, state="{}", applied_version=0, next_version=0, updated_at=now,
        ).on_conflict_do_nothing())
        conn.execute(_SET_OWNER, {"p_aid": assessment_key, "p_owner": owner, "p_now": now})

    def learn_state(self, assessment_key: str, state: Assessment) -> bool:
        """Keep what Feishu holds for an assessment the bot has not written yet (read back to prefill its form);
        False, and nothing changed, once the bot has written it: its own record is the truth then."""
        now = self.clock()
        with self.transaction() as conn:
            conn.execute(self._insert(assessments).values(
                assessment_key=assessment_key, state="{}", applied_version=0, next_version=0, updated_at=now,
            ).on_conflict_do_nothing())
            return bool(conn.execute(_LEARN, {"p_aid": assessment_key, "p_state": state.model_dump_json(),
                                              "p_now": now}).rowcount)

    def _take_version(self, conn: Connection, assessment_key: str, versioned: bool, now: float,
                      claimant: str | None, may_override: bool) -> int | None:
        """In one statement: create the assessment's row, let `claimant` own it if nobody does, count a version.

        Raises Denied when someone else owns it (unless `may_override`); the row stays locked until commit.
        """
        [(owner, version)] = self.hot.run("take_version", self._take_version_sql, conn, {
            "p_aid": assessment_key, "p_claimant": claimant, "p_step": 1 if versioned else 0, "p_now": now})
        if claimant is not None and owner != claimant and not may_override:
            raise Denied(owner)
        return version if versioned else None

    def unapplied(self, assessment_key: str, up_to: int) -> list[tuple[int, Submission]]:
        """Submissions after the last applied version up to `up_to`, oldest first (dead ones left out)."""
        with self._reading() as conn:
            applied = conn.execute(_APPLIED, {"p_aid": assessment_key}).scalar_one_or_none() or 0
            rows = conn.execute(_UNAPPLIED, {"p_aid": assessment_key, "p_applied": applied, "p_up_to": up_to}).all()
        found = [(r.version, decode(r.kind, r.payload)) for r in rows]
        return [(version, payload.submission) for version, payload in found if isinstance(payload, Write)]

    def unchanged_state(self, assessment_key: str, submission: Submission, known: Known | None = None
                        ) -> Assessment | None:
        """The state a submission would leave untouched (what the bot wrote, with writes still queued on top), or
        None when it changes something or the bot has never written this assessment (Feishu's side is unknown then).

        `known`: the assessment as the caller already read it (one read fewer on the acknowledgement's path)."""
        known = known or self.known(assessment_key)
        if known.applied_version == 0:
            return None
        state = known.state
        for _, queued in self.unapplied(assessment_key, known.next_version):
            state = queued.merged_into(state)
        return state if changes_nothing(submission, state) else None

    def record_write(self, job: Job, state: Assessment, audit_detail: dict, log_id: str | None,
                     done: bool = False, form_id: str | None = None) -> bool:
        """After a successful PATCH: store the new state (if newer) and the rubric version it was written with
        (`form_id`, which an assignment not pinned yet pins), move the job to its notify stage, audit; with `done`
        (its confirmation is delivered too), finish the job in the same transaction.

        Returns False when the job's lease was lost (another runner owns it now).
        """
        now = self.clock()
        state_json = state.model_dump_json()
        with self.transaction() as conn:
            moved = conn.execute(_TO_DONE if done else _TO_NOTIFY, {
                "p_id": job.id, "p_owner": job.lease_owner, "p_log_id": log_id, "p_now": now}).rowcount
            if not moved:
                return False
            conn.execute(_APPLY, {"p_aid": job.assessment_key, "p_version": job.version, "p_state": state_json,
                                  "p_now": now, "p_form": form_id})
            if form_id is not None:
                conn.execute(_PIN, {"p_aid": job.assessment_key, "p_form": form_id})
            conn.execute(_SUBMITTED, {"p_aid": job.assessment_key, "p_now": now})  # its reminders stop
            touch_assessment(conn, self._insert, job.assessment_key, now)  # the recruiter's cards
            self._audit(conn, now, audit_detail.pop("actor"), job.assessment_key, "write", "ok", audit_detail, log_id)
            return True
