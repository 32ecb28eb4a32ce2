"""What an operator does: list jobs by state, retry or discard them (audited); export assessments and audit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from bot.store.audit import Audit
from bot.store.outbox import ACTIVE
from bot.store.schedule import Assignment, _row
from bot.store.schema import assessments, assignments, audit, jobs

STATES = ("pending", "retrying", "running", "dead", "done")
_ERROR = re.compile(r"^(?P<code>-?\d+):.*?(?:\(log_id (?P<log_id>[^)]+)\))?$", re.S)


@dataclass(frozen=True)
class Recorded:
    """One assessment written to Feishu, with the interview it belongs to when the schedule knows it."""

    key: str  # the bot's key: Feishu's id when typed, or its own for an assignment not yet created in Feishu
    owner: str | None
    state: dict  # bot.assessment.Assessment's fields
    submitted_at: float  # its last successful write
    assignment: Assignment | None
    form_id: str | None = None  # the rubric version its last write used


@dataclass(frozen=True)
class JobRow:
    """One job in the operator's listing."""

    id: int
    kind: str
    assessment_key: str | None
    state: str  # pending (never tried), retrying (pending after a failure), running, dead, done
    attempts: int
    error_code: str | None
    log_id: str | None
    age: float  # seconds since it was created
    error: str | None
    due: float | None = None  # when it runs (or ran) next: pending and running jobs only


def state_of(status: str, attempts: int) -> str:
    return "retrying" if status == "pending" and attempts > 0 else status


def error_parts(error: str | None, log_id: str | None) -> tuple[str | None, str | None]:
    """The Feishu code and log id kept in a job's last error ("code: msg (log_id X)"), when there are."""
    match = _ERROR.match(error or "")
    if match is None:
        return None, log_id
    return match["code"], match["log_id"] or log_id


class Admin(Audit):
    """The operator's verbs on jobs."""

    def list_jobs(self, state: str | None = None, kind: str | None = None, limit: int = 50) -> list[JobRow]:
        """Jobs, oldest first; by default those not done (pending, retrying, running, dead)."""
        query = select(jobs).order_by(jobs.c.id).limit(limit)
        if state == "retrying":
            query = query.where(jobs.c.status == "pending", jobs.c.attempts > 0)
        elif state == "pending":
            query = query.where(jobs.c.status == "pending", jobs.c.attempts == 0)
        elif state is not None:
            query = query.where(jobs.c.status == state)
        else:
            query = query.where(jobs.c.status != "done")
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        now = self.clock()
        with self._reading() as conn:
            rows = conn.execute(query).all()
        return [JobRow(r.id, r.kind, r.assessment_key, state_of(r.status, r.attempts), r.attempts,
                       *error_parts(r.last_error, r.log_id), max(0.0, now - r.created_at), r.last_error,
                       r.run_after if r.status in ACTIVE else None)
                for r in rows]

    def retry_jobs(self, ids: list[int] | None, actor: str) -> list[int]:
        """Make dead (or waiting) jobs runnable now, with a fresh attempt count; `None`: every dead job."""
        now = self.clock()
        where = [jobs.c.status == "dead"] if ids is None else [jobs.c.id.in_(ids), jobs.c.status.in_(("dead",
                                                                                                         "pending"))]
        with self.transaction() as conn:
            found = [r.id for r in conn.execute(select(jobs.c.id, jobs.c.assessment_key).where(*where)).all()]
            if found:
                conn.execute(update(jobs).where(jobs.c.id.in_(found)).values(
                    status="pending", attempts=0, run_after=now, lease_until=None, lease_owner=None,
                    updated_at=now))
            for job_id, aid in conn.execute(select(jobs.c.id, jobs.c.assessment_key)
                                            .where(jobs.c.id.in_(found))).all():
                self._audit(conn, now, actor, aid, "job_retry", "ok", {"job": job_id}, None)
        return found

    def discard_job(self, job_id: int, actor: str) -> bool:
        """Give up a job that is not running: it is marked dead-and-discarded ("discarded"), kept for the trail."""
        now = self.clock()
        with self.transaction() as conn:
            row = conn.execute(select(jobs.c.assessment_key, jobs.c.status).where(jobs.c.id == job_id)).first()
            if row is None or row.status not in ("pending", "dead"):
                return False
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(status="discarded", lease_until=None,
                                                                         updated_at=now))
            self._audit(conn, now, actor, row.assessment_key, "job_discard", "ok",
                        {"job": job_id, "was": row.status}, None)
        return True

    def dead_jobs(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).where(jobs.c.status == "dead")).scalar_one())

    def count_since(self, since: float) -> int:
        """How many assessments and audit entries an export from `since` holds."""
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).where(assessments.c.updated_at >= since)).scalar_one()
                       + conn.execute(select(func.count()).where(audit.c.at >= since)).scalar_one())

    def recorded(self, since: float = 0.0, batch: int = 500) -> Iterator[Recorded]:
        """Assessments written to Feishu whose last write is at or after `since`, with their interviews, in key
        order: one short reading transaction per batch."""
        last = ""
        while True:
            with self._reading() as conn:
                rows = conn.execute(select(assessments).where(assessments.c.assessment_key > last,
                                                              assessments.c.applied_version > 0)
                                    .order_by(assessments.c.assessment_key).limit(batch)).all()
                keys = [r.assessment_key for r in rows]
                written = dict(conn.execute(select(audit.c.assessment_key, func.max(audit.c.at)).where(
                    audit.c.assessment_key.in_(keys), audit.c.action == "write", audit.c.result == "ok")
                    .group_by(audit.c.assessment_key)).all()) if keys else {}
                interviews = {}
                for found in conn.execute(select(assignments).where(or_(assignments.c.key.in_(keys),
                                                                        assignments.c.feishu_assessment_id.in_(keys)))):
                    interviews.setdefault(found.key if found.key in keys else found.feishu_assessment_id, _row(found))
            for r in rows:
                at = written.get(r.assessment_key, r.updated_at)
                if at >= since:
                    yield Recorded(r.assessment_key, r.owner, json.loads(r.state), at, interviews.get(r.assessment_key),
                                   r.form_id)
            if len(rows) < batch:
                break
            last = rows[-1].assessment_key

    def export_rows(self, since: float = 0.0, batch: int = 500) -> Iterator[dict]:
        """Known assessments, then the audit trail, from `since`: one short reading transaction per batch."""
        last = ""
        while True:
            with self._reading() as conn:
                rows = conn.execute(select(assessments).where(assessments.c.updated_at >= since,
                                                              assessments.c.assessment_key > last)
                                    .order_by(assessments.c.assessment_key).limit(batch)).all()
            for r in rows:
                yield {"record": "assessment", "assessment_key": r.assessment_key, "owner": r.owner,
                       "state": json.loads(r.state), "applied_version": r.applied_version, "at": r.updated_at}
            if len(rows) < batch:
                break
            last = rows[-1].assessment_key
        after = 0
        while True:
            with self._reading() as conn:
                rows = conn.execute(select(audit).where(audit.c.at >= since, audit.c.id > after)
                                    .order_by(audit.c.id).limit(batch)).all()
            for r in rows:
                yield {"record": "audit", "id": r.id, "at": r.at, "actor": r.actor, "assessment_key": r.assessment_key,
                       "action": r.action, "result": r.result, "detail": json.loads(r.detail), "log_id": r.log_id}
            if len(rows) < batch:
                break
            after = rows[-1].id
