"""The outbox: an acknowledgement commits its dedup keys and jobs in one transaction; runners lease the jobs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, TextClause, and_, bindparam, exists, func, or_, select, text, update

from bot import metrics
from bot.store.assessments import Assessments
from bot.store.audit import Audit
from bot.store.ratelimit import HORIZON, Pace, RateLimits
from bot.store.schedule import Plan, upsert
from bot.store.schema import Job, NewJob, assessments, assignments, jobs, processed

ACTIVE = ("pending", "running")

# The statements of the busy paths (acknowledgement, job runner), built once with named parameters: building
# and keying a statement on every call costs more CPU than running it, and most of it inside the write lock.
_SEEN = select(processed.c.key).where(processed.c.key == bindparam("p_key"))
_NEW_JOB = jobs.insert()
_LEASED = and_(jobs.c.id == bindparam("p_id"), jobs.c.lease_owner == bindparam("p_owner"), jobs.c.status == "running")
_FINISH = update(jobs).where(_LEASED).values(status=bindparam("p_status"), last_error=bindparam("p_error"),
                                             lease_until=None, updated_at=bindparam("p_now"))
_other = jobs.alias("other")
_BUSY = exists().where(_other.c.assessment_id == jobs.c.assessment_id, _other.c.id != jobs.c.id,
                       _other.c.status == "running", _other.c.lease_until > bindparam("p_now"))
_ABANDONED = and_(jobs.c.status == "running", jobs.c.lease_until <= bindparam("p_now"))
_WAITING = and_(jobs.c.status == "pending", jobs.c.run_after <= bindparam("p_now"))
# Two queries rather than one with OR: each walks the status index in id order and stops after 8 rows, where
# the OR made SQLite sort every waiting job on every claim, slower and slower as a backlog grew.
_CLAIMABLE = [select(jobs).where(due, ~_BUSY).order_by(jobs.c.id).limit(8).with_for_update(skip_locked=True, of=jobs)
              for due in (_ABANDONED, _WAITING)]
_CLAIMABLE_ONE = (select(jobs).where(jobs.c.id == bindparam("p_id"), or_(jobs.c.status == "pending", _ABANDONED),
                                     ~_BUSY)
                  .with_for_update(skip_locked=True, of=jobs))
_LOCK_ASSESSMENT = (select(assessments.c.assessment_id).where(assessments.c.assessment_id == bindparam("p_aid"))
                    .with_for_update(skip_locked=True))
_OTHER_RUNNING = select(jobs.c.id).where(jobs.c.assessment_id == bindparam("p_aid"), jobs.c.id != bindparam("p_id"),
                                         jobs.c.status == "running", jobs.c.lease_until > bindparam("p_now"))
_LEASE = update(jobs).where(jobs.c.id == bindparam("p_id")).values(
    status="running", lease_until=bindparam("p_until"), lease_owner=bindparam("p_owner"),
    attempts=bindparam("p_attempts"), updated_at=bindparam("p_now"))


class _Duplicate(Exception):
    """A dedup key was already recorded."""


def new_owner_id() -> str:
    """A unique name for one runner thread's leases."""
    return uuid.uuid4().hex


class Outbox(Assessments, Audit, RateLimits):
    """Acknowledgements and the jobs they commit; an acknowledgement may change ownership and audit too."""

    _key_inserts: dict[int, TextClause]

    def accept(self, keys: Sequence[str], new_jobs: Sequence[NewJob], *, actor: str | None = None,
               claim_owner: bool = False, may_override: bool = False, audits: Sequence[dict] = (),
               owner_change: tuple[str, str] | None = None,
               assignment_updates: Sequence[tuple[int, dict]] = (), new_assignments: Sequence[dict] = (),
               plan: Plan | None = None) -> list[int] | None:
        """Record the dedup keys, an ownership change, assignment changes, the jobs and the audit rows at once.

        `new_assignments` are upserted as `Schedule.upsert_assignments` does, with `plan`, in the same transaction.

        None if any key was seen before (nothing is written). With `claim_owner`, the actor becomes the owner
        of the jobs' assessment if it has none, and the transaction is refused with Denied when someone else
        owns it (unless `may_override`).
        """
        try:
            return self._accept(keys, new_jobs, actor, claim_owner, may_override, audits, owner_change,
                                assignment_updates, new_assignments, plan)
        except _Duplicate:
            metrics.DEDUP_HITS.inc()
            return None

    def _accept(self, keys: Sequence[str], new_jobs: Sequence[NewJob], actor: str | None, claim_owner: bool,
                may_override: bool, audits: Sequence[dict], owner_change: tuple[str, str] | None,
                assignment_updates: Sequence[tuple[int, dict]], new_assignments: Sequence[dict] = (),
                plan: Plan | None = None) -> list[int]:
        now = self.clock()
        claimant = actor if claim_owner and actor else None
        payloads = [json.dumps(job.payload, ensure_ascii=False) for job in new_jobs]  # before taking the lock
        # Few statements, and nothing else, while the database's single write lock is held.
        with self.transaction(urgent=True) as conn:
            if keys:
                params = {f"p_key{n}": key for n, key in enumerate(keys)}
                inserted = conn.execute(self._keys_insert(len(keys)), {**params, "p_now": now}).all()
                if len(inserted) < len(keys):
                    raise _Duplicate  # rolls the whole acknowledgement back
            if owner_change is not None:
                self._set_owner(conn, *owner_change, now)
            for assignment_id, values in assignment_updates:
                conn.execute(update(assignments).where(assignments.c.id == assignment_id).values(updated_at=now,
                                                                                                  **values))
            if new_assignments:
                if plan is None:
                    raise ValueError("new assignments need a plan for their reminders")
                upsert(conn, new_assignments, plan, now, self._set_owner)
            ids = []
            for job, payload in zip(new_jobs, payloads, strict=True):
                version = None
                if job.assessment_id is not None:
                    version = self._take_version(conn, job.assessment_id, job.versioned, now, claimant,
                                                 may_override)
                result = conn.execute(_NEW_JOB, {
                    "kind": job.kind, "assessment_id": job.assessment_id, "version": version, "payload": payload,
                    "status": "pending", "stage": "start", "attempts": 0, "run_after": now + job.delay,
                    "created_at": now, "updated_at": now})
                ids.append(int(result.inserted_primary_key[0]))
            for entry in audits:
                self._audit(conn, now, entry["actor"], entry.get("assessment_id"), entry["action"], entry["result"],
                            entry.get("detail") or {}, entry.get("log_id"))
            return ids

    def _keys_insert(self, count: int) -> TextClause:
        """INSERT of `count` dedup keys that returns the ones that were new (built once per count).

        Text, not a multi-row Insert construct: SQLAlchemy cannot cache the compiled form of the latter and
        compiled it again on every acknowledgement. The SQL is the same on SQLite (3.35+) and PostgreSQL.
        """
        if count not in self._key_inserts:
            rows = ", ".join(f"(:p_key{n}, :p_now)" for n in range(count))
            self._key_inserts[count] = text(f'INSERT INTO {processed.name} ("key", created_at) VALUES {rows} '
                                            'ON CONFLICT DO NOTHING RETURNING "key"')
        return self._key_inserts[count]

    def seen(self, key: str) -> bool:
        with self._reading() as conn:
            return conn.execute(_SEEN, {"p_key": key}).first() is not None

    # -- the runners' side -----------------------------------------------------------------------------

    def claim(self, owner: str, lease: float, job_id: int | None = None,
              paces: Mapping[str, Pace] | None = None) -> Job | None:
        """Lease the next runnable job (or a given one): pending and due, or running with an expired lease.

        A job is not claimed while another job of the same assessment holds a live lease, so writes to
        one assessment never race each other. A job at its first stage whose kind has a pace (`paces`, by
        kind) gets the slot of its first call booked in the same transaction, when one is free within HORIZON.
        """
        now = self.clock()
        queries = _CLAIMABLE
        if job_id is not None:  # an inline answer runs its own job now, whatever its run_after
            queries = [_CLAIMABLE_ONE]
        params = {"p_now": now, "p_id": job_id}
        with self._reading() as conn:  # nothing due (an idle poll, a wake-up for nothing): no write lock taken
            if not any(conn.execute(query, params).first() for query in queries):
                return None
        with self.transaction() as conn:
            found = [row for query in queries for row in conn.execute(query, params).all()]
            for row in sorted(found, key=lambda r: r.id):
                if row.assessment_id is not None and not self._lock_assessment(conn, row.assessment_id, row.id, now):
                    continue
                conn.execute(_LEASE, {"p_id": row.id, "p_until": now + lease, "p_owner": owner,
                                      "p_attempts": row.attempts + 1, "p_now": now})
                slot_at = None
                if paces and row.kind in paces and row.stage == "start":
                    booked, delay = self._book(conn, paces[row.kind], HORIZON)
                    slot_at = self.clock() + delay if booked else None
                return Job(row.id, row.kind, row.assessment_id, row.version, json.loads(row.payload), row.stage,
                           row.attempts + 1, row.created_at, owner, slot_at)
        return None

    def _lock_assessment(self, conn: Connection, assessment_id: str, job_id: int, now: float) -> bool:
        # PostgreSQL: serialize claimers of one assessment; SQLite's BEGIN IMMEDIATE already does.
        locked = conn.execute(_LOCK_ASSESSMENT, {"p_aid": assessment_id}).first()
        if locked is None and self.dialect == "postgresql":
            return False
        return conn.execute(_OTHER_RUNNING, {"p_aid": assessment_id, "p_id": job_id, "p_now": now}).first() is None

    def finish(self, job: Job, status: str = "done", error: str | None = None) -> bool:
        """Mark a claimed job done or dead; False if its lease was lost."""
        now = self.clock()
        with self.transaction() as conn:
            return bool(conn.execute(_FINISH, {"p_id": job.id, "p_owner": job.lease_owner, "p_status": status,
                                               "p_error": error, "p_now": now}).rowcount)

    def retry_later(self, job: Job, delay: float, error: str, *, count_attempt: bool = True) -> bool:
        """Put a claimed job back to wait `delay` seconds."""
        now = self.clock()
        values: dict = {"status": "pending", "run_after": now + delay, "last_error": error, "lease_until": None,
                        "updated_at": now}
        if not count_attempt:
            values["attempts"] = job.attempts - 1
        with self.transaction() as conn:
            return bool(conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.lease_owner == job.lease_owner,
                                                        jobs.c.status == "running").values(**values)).rowcount)

    def job(self, job_id: int) -> dict | None:
        """A job's row as a dict (for tests and "try again")."""
        with self._reading() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        data["payload"] = json.loads(data["payload"])
        return data

    def jobs_by_status(self) -> dict[str, int]:
        with self._reading() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        return {status: count for status, count in rows}

    def jobs_by_kind_and_state(self) -> dict[tuple[str, str], int]:
        with self._reading() as conn:
            rows = conn.execute(select(jobs.c.kind, jobs.c.status, func.count())
                                .group_by(jobs.c.kind, jobs.c.status)).all()
        return {(kind, status): count for kind, status, count in rows}

    def backlog(self) -> tuple[int, float]:
        """How many jobs wait, and the age in seconds of the oldest."""
        now = self.clock()
        with self._reading() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(jobs.c.created_at))
                                         .where(jobs.c.status.in_(ACTIVE))).one()
        return int(count), (now - oldest) if oldest else 0.0
