"""The outbox: an acknowledgement commits its dedup keys and jobs in one transaction; runners lease the jobs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, TextClause, and_, bindparam, case, exists, func, or_, select, text, update

from bot.contract import Job, NewJob, decode, encode
from bot.store.assessments import Assessments
from bot.store.audit import Audit
from bot.store.ratelimit import RateLimits
from bot.store.schedule import Plan, foresee, upsert
from bot.store.schema import assessments, assignments, insert_job, jobs, processed, uploads
from bot.store.uploads import Moved

_PIN = (update(assignments).where(assignments.c.id == bindparam("p_id"), assignments.c.form_id.is_(None))
        .values(form_id=bindparam("p_form")))

ACTIVE = ("pending", "running")

# The statements of the busy paths (acknowledgement, job runner), built once with named parameters: building
# and keying a statement on every call costs more CPU than running it, and most of it inside the write lock.
_SEEN = select(processed.c.key).where(processed.c.key == bindparam("p_key"))
_LEASED = and_(jobs.c.id == bindparam("p_id"), jobs.c.lease_owner == bindparam("p_owner"), jobs.c.status == "running")
_FINISH = update(jobs).where(_LEASED).values(status=bindparam("p_status"), last_error=bindparam("p_error"),
                                             lease_until=None, updated_at=bindparam("p_now"))
_other = jobs.alias("other")
_BUSY = exists().where(_other.c.assessment_key == jobs.c.assessment_key, _other.c.id != jobs.c.id,
                       _other.c.status == "running", _other.c.lease_until > bindparam("p_now"))
_ABANDONED = and_(jobs.c.status == "running", jobs.c.lease_until <= bindparam("p_now"))
_WAITING = and_(jobs.c.status == "pending", jobs.c.run_after <= bindparam("p_now"))
# Owed now (the backlog): running, due, or tried and waiting to try again; planned: never tried, its time not come.
_OWED = or_(jobs.c.status == "running", _WAITING, and_(jobs.c.status == "pending", jobs.c.attempts > 0))
_PLANNED = and_(jobs.c.status == "pending", jobs.c.attempts == 0, jobs.c.run_after > bindparam("p_now"))
# Two queries rather than one with OR: each walks the status index in id order and stops after 8 rows, where
# the OR made SQLite sort every waiting job on every claim, slower and slower as a backlog grew.
_CLAIMABLE = [select(jobs).where(due, ~_BUSY).order_by(jobs.c.id).limit(8).with_for_update(skip_locked=True, of=jobs)
              for due in (_ABANDONED, _WAITING)]
_CLAIMABLE_ONE = (select(jobs).where(jobs.c.id == bindparam("p_id"), or_(jobs.c.status == "pending", _ABANDONED),
                                     ~_BUSY)
                  .with_for_update(skip_locked=True, of=jobs))
_LOCK_ASSESSMENT = (select(assessments.c.assessment_key).where(assessments.c.assessment_key == bindparam("p_aid"))
                    .with_for_update(skip_locked=True))
_OTHER_RUNNING = select(jobs.c.id).where(jobs.c.assessment_key == bindparam("p_aid"), jobs.c.id != bindparam("p_id"),
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
               plan: Plan | None = None, pins: Sequence[tuple[int, str]] = (),
               upload_state: tuple[str, tuple[str, ...], str] | None = None) -> list[int] | None:
        """Record the dedup keys, an ownership change, assignment changes, the jobs and the audit rows at once.

        `new_assignments` are upserted as `Schedule.upsert_assignments` does, with `plan`, in the same transaction;
        `pins` pin each assignment's form version unless it has one. `upload_state` (upload, the states it may be in,
        its new state) moves an upload on, or refuses the whole transaction with Moved when it is in none of them
        (a second Import finds it importing).

        None if any key was seen before (nothing is written). With `claim_owner`, the actor becomes the owner
        of the jobs' assessment if it has none, and the transaction is refused with Denied when someone else
        owns it (unless `may_override`).
        """
        try:
            return self._accept(keys, new_jobs, actor, claim_owner, may_override, audits, owner_change,
                                assignment_updates, new_assignments, plan, pins, upload_state)
        except _Duplicate:
            return None

    def _accept(self, keys: Sequence[str], new_jobs: Sequence[NewJob], actor: str | None, claim_owner: bool,
                may_override: bool, audits: Sequence[dict], owner_change: tuple[str, str] | None,
                assignment_updates: Sequence[tuple[int, dict]], new_assignments: Sequence[dict] = (),
                plan: Plan | None = None, pins: Sequence[tuple[int, str]] = (),
                upload_state: tuple[str, tuple[str, ...], str] | None = None) -> list[int]:
        now = self.clock()
        claimant = actor if claim_owner and actor else None
        payloads = [encode(job.payload) for job in new_jobs]  # before taking the lock
        # Few statements, and nothing else, while the database's single write lock is held.
        with self.transaction(urgent=True) as conn:
            if keys:
                params = {f"p_key{n}": key for n, key in enumerate(keys)}
                inserted = self.hot.run(("keys", len(keys)), self._keys_insert(len(keys)), conn,
                                        {**params, "p_now": now})
                if len(inserted) < len(keys):
                    raise _Duplicate  # rolls the whole acknowledgement back
            if owner_change is not None:
                self._set_owner(conn, *owner_change, now)
            if upload_state is not None:
                upload, expected, new = upload_state
                moved = conn.execute(update(uploads).where(uploads.c.id == upload, uploads.c.state.in_(expected))
                                     .values(state=new, updated_at=now)).rowcount
                if not moved:
                    raise Moved(upload, conn.execute(select(uploads.c.state).where(uploads.c.id == upload)).scalar())
            for assignment_id, values in assignment_updates:
                conn.execute(update(assignments).where(assignments.c.id == assignment_id).values(updated_at=now,
                                                                                                  **values))
            for assignment_id, form_id in pins:
                conn.execute(_PIN, {"p_id": assignment_id, "p_form": form_id})
            if new_assignments:
                if plan is None:
                    raise ValueError("new assignments need a plan for their reminders")
                foresee(plan, new_assignments)
                upsert(conn, new_assignments, plan, now, self._set_owner)
            ids = []
            for job, payload in zip(new_jobs, payloads, strict=True):
                version = None
                if job.assessment_key is not None:
                    version = self._take_version(conn, job.assessment_key, job.versioned, now, claimant,
                                                 may_override)
                ids.append(insert_job(conn, job, now, version, payload, self.hot))
            for entry in audits:
                self._audit(conn, now, entry["actor"], entry.get("assessment_key"), entry["action"], entry["result"],
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
        return bool(self._look_up("seen", _SEEN, {"p_key": key}))

    # -- the runners' side -----------------------------------------------------------------------------

    def claim(self, owner: str, lease: float, job_id: int | None = None) -> Job | None:
        """Lease the next runnable job (or a given one): pending and due, or running with an expired lease.

        A job is not claimed while another job of the same assessment holds a live lease, so writes to
        one assessment never race each other.
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
                if row.assessment_key is not None and not self._lock_assessment(conn, row.assessment_key, row.id,
                                                                                  now):
                    continue
                conn.execute(_LEASE, {"p_id": row.id, "p_until": now + lease, "p_owner": owner,
                                      "p_attempts": row.attempts + 1, "p_now": now})
                return Job(row.id, row.kind, row.assessment_key, row.version, decode(row.kind, row.payload),
                           row.stage, row.attempts + 1, row.created_at, owner)
        return None

    def _lock_assessment(self, conn: Connection, assessment_key: str, job_id: int, now: float) -> bool:
        # PostgreSQL: serialize claimers of one assessment; SQLite's BEGIN IMMEDIATE already does.
        locked = conn.execute(_LOCK_ASSESSMENT, {"p_aid": assessment_key}).first()
        if locked is None and self.dialect == "postgresql":
            return False
        return conn.execute(_OTHER_RUNNING, {"p_aid": assessment_key, "p_id": job_id, "p_now": now}).first() is None

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
        """A job's row as a dict, its payload read by its kind's model (for tests and "try again")."""
        with self._reading() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        data["payload"] = decode(row.kind, row.payload)
        return data

    def jobs_by_status(self) -> dict[str, int]:
        with self._reading() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        return {status: count for status, count in rows}

    def jobs_by_kind_and_state(self) -> dict[tuple[str, str], int]:
        """Jobs by kind and status, pending ones planned for later counted apart as "scheduled"."""
        states = select(jobs.c.kind, case((_PLANNED, "scheduled"), else_=jobs.c.status).label("state")).subquery()
        with self._reading() as conn:
            rows = conn.execute(select(states.c.kind, states.c.state, func.count())
                                .group_by(states.c.kind, states.c.state), {"p_now": self.clock()}).all()
        return {(kind, state): count for kind, state, count in rows}

    def backlog(self) -> tuple[int, float]:
        """How many jobs are owed now, and how long in seconds the longest-waiting one has been due.

        Owed: running, due and waiting to run, or waiting to try again after a failure. Jobs planned for later (a
        reminder after tomorrow's interview) are not: they are `scheduled()`. A job is due from its run time, or, when
        it was taken by a runner that died, from the end of that runner's lease (when another may take it).
        """
        now = self.clock()
        with self._reading() as conn:
            count, waiting, abandoned = conn.execute(select(
                func.count(), func.min(case((_WAITING, jobs.c.run_after))),
                func.min(case((_ABANDONED, jobs.c.lease_until)))).where(_OWED), {"p_now": now}).one()
        due = min((at for at in (waiting, abandoned) if at is not None), default=None)
        return int(count), (now - due) if due is not None else 0.0

    def settled(self, within: float = 120.0) -> bool:
        """Nothing owed now and nothing planned within `within` seconds: a recurring sync an hour away (the feedback
        forms') leaves the bot settled; a write waiting for its click's answer does not."""
        count, next_in = self.scheduled()
        return self.backlog()[0] == 0 and (count == 0 or next_in is None or next_in > within)

    def scheduled(self) -> tuple[int, float | None]:
        """How many jobs are planned for later (never tried, their time not come), and seconds until the next."""
        now = self.clock()
        with self._reading() as conn:
            count, first = conn.execute(select(func.count(), func.min(jobs.c.run_after)).where(_PLANNED),
                                        {"p_now": now}).one()
        return int(count), (first - now) if first is not None else None
