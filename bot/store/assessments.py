"""What the bot knows of each assessment: its last written state, its owner and its submission versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.sql.dml import ReturningInsert

from bot.assessment import Assessment, Submission
from bot.store.audit import Audit
from bot.store.schema import Job, assessments, assignments, jobs

_KNOWN = select(assessments).where(assessments.c.assessment_id == bindparam("p_aid"))
_APPLIED = select(assessments.c.applied_version).where(assessments.c.assessment_id == bindparam("p_aid"))
_UNAPPLIED = (select(jobs.c.version, jobs.c.payload)
              .where(jobs.c.assessment_id == bindparam("p_aid"),
                     jobs.c.version > bindparam("p_applied"), jobs.c.version <= bindparam("p_up_to"),
                     jobs.c.status.notin_(("dead", "discarded")))
              .order_by(jobs.c.version))
_LEASED = and_(jobs.c.id == bindparam("p_id"), jobs.c.lease_owner == bindparam("p_owner"), jobs.c.status == "running")
_TO_NOTIFY = update(jobs).where(_LEASED).values(stage="notify", log_id=bindparam("p_log_id"),
                                                updated_at=bindparam("p_now"))
_TO_DONE = update(jobs).where(_LEASED).values(stage="notify", status="done", lease_until=None,
                                              log_id=bindparam("p_log_id"), updated_at=bindparam("p_now"))
_APPLY = (update(assessments)
          .where(assessments.c.assessment_id == bindparam("p_aid"),
                 assessments.c.applied_version < bindparam("p_version"))
          .values(state=bindparam("p_state"), applied_version=bindparam("p_version"), updated_at=bindparam("p_now")))
_SUBMITTED = (update(assignments)
              .where(assignments.c.key == bindparam("p_aid"), assignments.c.submitted_at.is_(None))
              .values(submitted_at=bindparam("p_now"), remind_at=None, updated_at=bindparam("p_now")))
_SET_OWNER = (update(assessments).where(assessments.c.assessment_id == bindparam("p_aid"))
              .values(owner=bindparam("p_owner"), updated_at=bindparam("p_now")))


@dataclass(frozen=True)
class Known:
    """What the bot knows of one assessment."""

    state: Assessment
    owner: str | None
    applied_version: int
    next_version: int


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
            assessment_id=bindparam("p_aid"), owner=bindparam("p_claimant"), state="{}", applied_version=0,
            next_version=bindparam("p_step"), updated_at=bindparam("p_now"))
        # Create the row, let the claimant own it if nobody does, count a version: one statement.
        return new.on_conflict_do_update(index_elements=[assessments.c.assessment_id], set_={
            "owner": func.coalesce(assessments.c.owner, new.excluded.owner),
            "next_version": assessments.c.next_version + new.excluded.next_version,
            "updated_at": new.excluded.updated_at,
        }).returning(assessments.c.owner, assessments.c.next_version)

    def known(self, assessment_id: str) -> Known:
        """The last successfully written state, owner and versions (empty if never seen)."""
        with self._reading() as conn:
            row = conn.execute(_KNOWN, {"p_aid": assessment_id}).first()
        if row is None:
            return Known(Assessment(), None, 0, 0)
        return Known(Assessment.model_validate_json(row.state), row.owner, row.applied_version, row.next_version)

    def set_owner(self, assessment_id: str, owner: str) -> None:
        """Hand an assessment to `owner` (the chat's hand-over goes through `accept`, in its transaction)."""
        with self.transaction() as conn:
            self._set_owner(conn, assessment_id, owner, self.clock())

    def _set_owner(self, conn: Connection, assessment_id: str, owner: str, now: float) -> None:
        conn.execute(self._insert(assessments).values(
            assessment_id=assessment_id, state="{}", applied_version=0, next_version=0, updated_at=now,
        ).on_conflict_do_nothing())
        conn.execute(_SET_OWNER, {"p_aid": assessment_id, "p_owner": owner, "p_now": now})

    def _take_version(self, conn: Connection, assessment_id: str, versioned: bool, now: float,
                      claimant: str | None, may_override: bool) -> int | None:
        """In one statement: create the assessment's row, let `claimant` own it if nobody does, count a version.

        Raises Denied when someone else owns it (unless `may_override`); the row stays locked until commit.
        """
        owner, version = conn.execute(self._take_version_sql, {
            "p_aid": assessment_id, "p_claimant": claimant, "p_step": 1 if versioned else 0, "p_now": now,
        }).one()
        if claimant is not None and owner != claimant and not may_override:
            raise Denied(owner)
        return version if versioned else None

    def _after_write(self, conn: Connection, assessment_id: str, now: float) -> None:
        """What else a successful write changes, in its transaction (the recruiter's cards: bot.store.panel)."""

    def unapplied(self, assessment_id: str, up_to: int) -> list[tuple[int, Submission]]:
        """Submissions after the last applied version up to `up_to`, oldest first (dead ones left out)."""
        with self._reading() as conn:
            applied = conn.execute(_APPLIED, {"p_aid": assessment_id}).scalar_one_or_none() or 0
            rows = conn.execute(_UNAPPLIED, {"p_aid": assessment_id, "p_applied": applied, "p_up_to": up_to}).all()
        return [(r.version, Submission.model_validate(json.loads(r.payload)["submission"])) for r in rows]

    def record_write(self, job: Job, state: Assessment, audit_detail: dict, log_id: str | None,
                     done: bool = False) -> bool:
        """After a successful PATCH: store the new state (if newer), move the job to its notify stage, audit;
        with `done` (its confirmation is delivered too), finish the job in the same transaction.

        Returns False when the job's lease was lost (another runner owns it now).
        """
        now = self.clock()
        state_json = state.model_dump_json()
        with self.transaction() as conn:
            moved = conn.execute(_TO_DONE if done else _TO_NOTIFY, {
                "p_id": job.id, "p_owner": job.lease_owner, "p_log_id": log_id, "p_now": now}).rowcount
            if not moved:
                return False
            conn.execute(_APPLY, {"p_aid": job.assessment_id, "p_version": job.version, "p_state": state_json,
                                  "p_now": now})
            conn.execute(_SUBMITTED, {"p_aid": job.assessment_id, "p_now": now})  # its reminders stop
            self._after_write(conn, job.assessment_id, now)
            self._audit(conn, now, audit_detail.pop("actor"), job.assessment_id, "write", "ok", audit_detail, log_id)
            return True
