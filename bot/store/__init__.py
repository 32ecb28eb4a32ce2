"""The database: dedup records, durable jobs, known assessment state, ownership, audit, the shared rate limit.

One code path for SQLite (the default) and PostgreSQL through SQLAlchemy Core. SQLite runs in WAL mode with
a busy timeout and starts every writing transaction with BEGIN IMMEDIATE, so a transaction that reads and then
writes never fails with SQLITE_BUSY; transactions that only read use a plain BEGIN and, in WAL mode, never
wait for the writer. PostgreSQL claims rows with FOR UPDATE SKIP LOCKED so several workers and instances take
different jobs without waiting on each other.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.assessment import Assessment, Submission

metadata = MetaData()

processed = Table(
    "processed_keys", metadata,
    Column("key", String(200), primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("assessment_id", String(64), index=True),
    Column("version", Integer),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending | running | done | dead
    Column("stage", String(16), nullable=False, default="start"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", Float, nullable=False),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    Column("last_error", Text),
    Column("log_id", String(128)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
)

assessments = Table(
    "assessments", metadata,
    Column("assessment_id", String(64), primary_key=True),
    Column("owner", String(128)),
    Column("state", Text, nullable=False, default="{}"),
    Column("applied_version", Integer, nullable=False, default=0),
    Column("next_version", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("assessment_id", String(64), index=True),
    Column("action", String(32), nullable=False),
    Column("result", String(16), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("log_id", String(128)),
)

rate_limits = Table(
    "rate_limits", metadata,
    Column("name", String(64), primary_key=True),
    Column("blocked_until", Float, nullable=False, default=0.0),
)

rate_hits = Table(
    "rate_hits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("at", Float, nullable=False, index=True),
)

ACTIVE = ("pending", "running")

# The statements of the busy paths (acknowledgement, job runner), built once with named parameters: building
# and keying a statement on every call costs more CPU than running it, and most of it inside the write lock.
_SEEN = select(processed.c.key).where(processed.c.key == bindparam("p_key"))
_KNOWN = select(assessments).where(assessments.c.assessment_id == bindparam("p_aid"))
_APPLIED = select(assessments.c.applied_version).where(assessments.c.assessment_id == bindparam("p_aid"))
_UNAPPLIED = (select(jobs.c.version, jobs.c.payload)
              .where(jobs.c.assessment_id == bindparam("p_aid"), jobs.c.kind == "write",
                     jobs.c.version > bindparam("p_applied"), jobs.c.version <= bindparam("p_up_to"),
                     jobs.c.status != "dead")
              .order_by(jobs.c.version))
_NEW_JOB = jobs.insert()
_NEW_AUDIT = audit.insert()
_LEASED = and_(jobs.c.id == bindparam("p_id"), jobs.c.lease_owner == bindparam("p_owner"), jobs.c.status == "running")
_TO_NOTIFY = update(jobs).where(_LEASED).values(stage="notify", log_id=bindparam("p_log_id"),
                                                updated_at=bindparam("p_now"))
_APPLY = (update(assessments)
          .where(assessments.c.assessment_id == bindparam("p_aid"),
                 assessments.c.applied_version < bindparam("p_version"))
          .values(state=bindparam("p_state"), applied_version=bindparam("p_version"), updated_at=bindparam("p_now")))
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
_SLOT_LOCK = select(rate_limits.c.name).where(rate_limits.c.name == bindparam("p_name")).with_for_update()
_BLOCKED_UNTIL = select(rate_limits.c.blocked_until).where(rate_limits.c.name == bindparam("p_name"))
_RECENT_SLOTS = (select(rate_hits.c.at)
                 .where(rate_hits.c.name == bindparam("p_name"), rate_hits.c.at > bindparam("p_since"))
                 .order_by(rate_hits.c.at))
_NEW_SLOT = rate_hits.insert()
_LEASE = update(jobs).where(jobs.c.id == bindparam("p_id")).values(
    status="running", lease_until=bindparam("p_until"), lease_owner=bindparam("p_owner"),
    attempts=bindparam("p_attempts"), updated_at=bindparam("p_now"))


@dataclass(frozen=True)
class NewJob:
    """A job to commit together with an acknowledgement."""

    kind: str
    payload: dict
    assessment_id: str | None = None
    versioned: bool = False  # a write: gets the assessment's next submission version
    delay: float = 0.0  # not claimable by background runners before this many seconds (an inline answer runs it)


@dataclass(frozen=True)
class Job:
    """A claimed job, as the runner sees it."""

    id: int
    kind: str
    assessment_id: str | None
    version: int | None
    payload: dict
    stage: str
    attempts: int
    created_at: float
    lease_owner: str


@dataclass(frozen=True)
class Known:
    """What the bot knows of one assessment."""

    state: Assessment
    owner: str | None
    applied_version: int
    next_version: int


class _Duplicate(Exception):
    """A dedup key was already recorded."""


class Denied(Exception):
    """The assessment belongs to someone else; nothing was written."""

    def __init__(self, owner: str):
        super().__init__("owned by someone else")
        self.owner = owner


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    assessment_id: str | None
    action: str
    result: str
    detail: dict
    log_id: str | None


class Store:
    """All persistent state, behind verbs that say what the bot means."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        self.url = url
        self.clock = clock
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._writer = _WriterLock(_sqlite_file(url)) if self.dialect == "sqlite" else None
        self._key_inserts: dict[int, Insert] = {}
        self._new_limit = (self._insert(rate_limits).values(name=bindparam("p_name"), blocked_until=0.0)
                           .on_conflict_do_nothing())
        new = self._insert(assessments).values(
            assessment_id=bindparam("p_aid"), owner=bindparam("p_claimant"), state="{}", applied_version=0,
            next_version=bindparam("p_step"), updated_at=bindparam("p_now"))
        # Create the row, let the claimant own it if nobody does, count a version: one statement.
        self._take_version_sql = new.on_conflict_do_update(index_elements=[assessments.c.assessment_id], set_={
            "owner": func.coalesce(assessments.c.owner, new.excluded.owner),
            "next_version": assessments.c.next_version + new.excluded.next_version,
            "updated_at": new.excluded.updated_at,
        }).returning(assessments.c.owner, assessments.c.next_version)

    def create_schema(self) -> None:
        """Create the tables that do not exist yet (new tables only; columns are never dropped)."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._writer.held() if self._writer else nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite a plain BEGIN, which runs beside the writer in WAL mode."""
        with self.engine.connect() as conn:
            conn.execution_options(assessbot_reading=True)
            with conn.begin():
                yield conn

    # -- acknowledgement -------------------------------------------------------------------------------

    def accept(self, keys: Sequence[str], new_jobs: Sequence[NewJob], *, actor: str | None = None,
               claim_owner: bool = False, may_override: bool = False, audits: Sequence[dict] = ()
               ) -> list[int] | None:
        """Record the dedup keys and commit the jobs in one transaction; None if any key was seen before.

        With `claim_owner`, the actor becomes the owner of the job's assessment if it has none, and the
        transaction is refused with Denied when someone else owns it (unless `may_override`).
        """
        try:
            return self._accept(keys, new_jobs, actor, claim_owner, may_override, audits)
        except _Duplicate:
            return None

    def _accept(self, keys: Sequence[str], new_jobs: Sequence[NewJob], actor: str | None, claim_owner: bool,
                may_override: bool, audits: Sequence[dict]) -> list[int]:
        now = self.clock()
        claimant = actor if claim_owner and actor else None
        payloads = [json.dumps(job.payload, ensure_ascii=False) for job in new_jobs]  # before taking the lock
        # Few statements, and nothing else, while the database's single write lock is held.
        with self.transaction() as conn:
            if keys:
                params = {f"p_key{n}": key for n, key in enumerate(keys)}
                inserted = conn.execute(self._keys_insert(len(keys)), {**params, "p_now": now}).all()
                if len(inserted) < len(keys):
                    raise _Duplicate  # rolls the whole acknowledgement back
            ids = []
            for job, payload in zip(new_jobs, payloads, strict=True):
                version = None
                if job.assessment_id is not None:
                    version = self._take_version(conn, job, now, claimant, may_override)
                result = conn.execute(_NEW_JOB, {
                    "kind": job.kind, "assessment_id": job.assessment_id, "version": version, "payload": payload,
                    "status": "pending", "stage": "start", "attempts": 0, "run_after": now + job.delay,
                    "created_at": now, "updated_at": now})
                ids.append(int(result.inserted_primary_key[0]))
            for entry in audits:
                self._audit(conn, now, entry["actor"], entry.get("assessment_id"), entry["action"], entry["result"],
                            entry.get("detail") or {}, entry.get("log_id"))
            return ids

    def _keys_insert(self, count: int) -> Insert:
        """INSERT of `count` dedup keys that returns the ones that were new (built once per count)."""
        if count not in self._key_inserts:
            rows = [{"key": bindparam(f"p_key{n}"), "created_at": bindparam("p_now")} for n in range(count)]
            self._key_inserts[count] = (self._insert(processed).values(rows).on_conflict_do_nothing()
                                        .returning(processed.c.key))
        return self._key_inserts[count]

    def _take_version(self, conn: Connection, job: NewJob, now: float, claimant: str | None,
                      may_override: bool) -> int | None:
        """In one statement: create the assessment's row, let `claimant` own it if nobody does, count a version.

        Raises Denied when someone else owns it (unless `may_override`); the row stays locked until commit.
        """
        owner, version = conn.execute(self._take_version_sql, {
            "p_aid": job.assessment_id, "p_claimant": claimant, "p_step": 1 if job.versioned else 0, "p_now": now,
        }).one()
        if claimant is not None and owner != claimant and not may_override:
            raise Denied(owner)
        return version if job.versioned else None

    def _ensure_assessment(self, conn: Connection, assessment_id: str, now: float) -> None:
        conn.execute(self._insert(assessments).values(
            assessment_id=assessment_id, state="{}", applied_version=0, next_version=0, updated_at=now,
        ).on_conflict_do_nothing())

    def seen(self, key: str) -> bool:
        with self._reading() as conn:
            return conn.execute(_SEEN, {"p_key": key}).first() is not None

    # -- assessments -----------------------------------------------------------------------------------

    def known(self, assessment_id: str) -> Known:
        """The last successfully written state, owner and versions (empty if never seen)."""
        with self._reading() as conn:
            row = conn.execute(_KNOWN, {"p_aid": assessment_id}).first()
        if row is None:
            return Known(Assessment(), None, 0, 0)
        return Known(Assessment.model_validate_json(row.state), row.owner, row.applied_version, row.next_version)

    def set_owner(self, assessment_id: str, owner: str) -> None:
        now = self.clock()
        with self.transaction() as conn:
            self._ensure_assessment(conn, assessment_id, now)
            conn.execute(update(assessments).where(assessments.c.assessment_id == assessment_id)
                         .values(owner=owner, updated_at=now))

    def unapplied(self, assessment_id: str, up_to: int) -> list[tuple[int, Submission]]:
        """Submissions after the last applied version up to `up_to`, oldest first (dead ones left out)."""
        with self._reading() as conn:
            applied = conn.execute(_APPLIED, {"p_aid": assessment_id}).scalar_one_or_none() or 0
            rows = conn.execute(_UNAPPLIED, {"p_aid": assessment_id, "p_applied": applied, "p_up_to": up_to}).all()
        return [(r.version, Submission.model_validate(json.loads(r.payload)["submission"])) for r in rows]

    def record_write(self, job: Job, state: Assessment, audit_detail: dict, log_id: str | None) -> bool:
        """After a successful PATCH: store the new state (if newer), move the job to its notify stage, audit.

        Returns False when the job's lease was lost (another runner owns it now).
        """
        now = self.clock()
        state_json = state.model_dump_json()
        with self.transaction() as conn:
            moved = conn.execute(_TO_NOTIFY, {"p_id": job.id, "p_owner": job.lease_owner, "p_log_id": log_id,
                                              "p_now": now}).rowcount
            if not moved:
                return False
            conn.execute(_APPLY, {"p_aid": job.assessment_id, "p_version": job.version, "p_state": state_json,
                                  "p_now": now})
            self._audit(conn, now, audit_detail.pop("actor"), job.assessment_id, "write", "ok", audit_detail,
                        log_id)
            return True

    # -- jobs ------------------------------------------------------------------------------------------

    def claim(self, owner: str, lease: float, job_id: int | None = None) -> Job | None:
        """Lease the next runnable job (or a given one): pending and due, or running with an expired lease.

        A job is not claimed while another job of the same assessment holds a live lease, so writes to
        one assessment never race each other.
        """
        now = self.clock()
        queries = _CLAIMABLE
        if job_id is not None:  # an inline answer runs its own job now, whatever its run_after
            queries = [_CLAIMABLE_ONE]
        with self.transaction() as conn:
            found = [row for query in queries for row in conn.execute(query, {"p_now": now, "p_id": job_id}).all()]
            for row in sorted(found, key=lambda r: r.id):
                if row.assessment_id is not None and not self._lock_assessment(conn, row.assessment_id, row.id, now):
                    continue
                conn.execute(_LEASE, {"p_id": row.id, "p_until": now + lease, "p_owner": owner,
                                      "p_attempts": row.attempts + 1, "p_now": now})
                return Job(row.id, row.kind, row.assessment_id, row.version, json.loads(row.payload), row.stage,
                           row.attempts + 1, row.created_at, owner)
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

    def set_stage(self, job: Job, stage: str) -> None:
        with self.transaction() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.lease_owner == job.lease_owner)
                         .values(stage=stage, updated_at=self.clock()))

    def job(self, job_id: int) -> dict | None:
        """A job's row as a dict (for tests, "try again" and the status page)."""
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

    def backlog(self) -> tuple[int, float]:
        """How many jobs wait, and the age in seconds of the oldest."""
        now = self.clock()
        with self._reading() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(jobs.c.created_at))
                                         .where(jobs.c.status.in_(ACTIVE))).one()
        return int(count), (now - oldest) if oldest else 0.0

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # -- audit -----------------------------------------------------------------------------------------

    def record(self, actor: str, assessment_id: str | None, action: str, result: str, detail: dict | None = None,
               log_id: str | None = None) -> None:
        """Append one audit entry (who, what, when, result; never free text)."""
        now = self.clock()
        with self.transaction() as conn:
            self._audit(conn, now, actor, assessment_id, action, result, detail or {}, log_id)

    def _audit(self, conn: Connection, now: float, actor: str, assessment_id: str | None, action: str, result: str,
               detail: dict, log_id: str | None) -> None:
        conn.execute(_NEW_AUDIT, {"at": now, "actor": actor, "assessment_id": assessment_id, "action": action,
                                  "result": result, "detail": json.dumps(detail, ensure_ascii=False),
                                  "log_id": log_id})

    def history(self, assessment_id: str | None = None, actor: str | None = None, limit: int = 200
                ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if assessment_id is not None:
            query = query.where(audit.c.assessment_id == assessment_id)
        if actor is not None:
            query = query.where(audit.c.actor == actor)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        return [AuditEntry(r.at, r.actor, r.assessment_id, r.action, r.result, json.loads(r.detail), r.log_id)
                for r in rows]

    # -- the shared rate limit -------------------------------------------------------------------------

    def take_slot(self, name: str, limit: int, window: float) -> float:
        """Take one call slot if fewer than `limit` were taken in the last `window` seconds; else the wait.

        Returns 0.0 when the slot is taken, otherwise how long to wait before asking again. The log of
        slots lives in the database, so every process and instance shares one limit.
        """
        with self._reading() as conn:  # most askers only learn how long to wait: no need for the write lock
            wait = self._slot_wait(conn, name, limit, window, self.clock())
        if wait > 0:
            return wait
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": name})
            conn.execute(_SLOT_LOCK, {"p_name": name})
            # Only now is the limit ours: a time read before waiting for the lock would log the slot too early,
            # and with many callers queued the calls would reach Feishu bunched tighter than the window.
            now = self.clock()
            wait = self._slot_wait(conn, name, limit, window, now)
            if wait <= 0:
                conn.execute(_NEW_SLOT, {"name": name, "at": now})
            return wait

    def _slot_wait(self, conn: Connection, name: str, limit: int, window: float, now: float) -> float:
        """How long until the limit has a free slot at `now` (0.0: one is free)."""
        blocked_until = conn.execute(_BLOCKED_UNTIL, {"p_name": name}).scalar_one_or_none() or 0.0
        if blocked_until > now:
            return blocked_until - now
        recent = conn.execute(_RECENT_SLOTS, {"p_name": name, "p_since": now - window}).scalars().all()
        return max(recent[len(recent) - limit] + window - now, 0.001) if len(recent) >= limit else 0.0

    def block(self, name: str, until: float) -> None:
        """Pause every caller of a limit until `until` (Feishu said we went too fast)."""
        with self.transaction() as conn:
            conn.execute(self._insert(rate_limits).values(name=name, blocked_until=0.0).on_conflict_do_nothing())
            conn.execute(update(rate_limits).where(rate_limits.c.name == name, rate_limits.c.blocked_until < until)
                         .values(blocked_until=until))

    # -- retention -------------------------------------------------------------------------------------

    def purge(self, dedup_ttl: float, job_ttl: float) -> dict[str, int]:
        """Delete dedup records and finished jobs past their TTL, and old rate-limit slots."""
        now = self.clock()
        with self.transaction() as conn:
            counts = {
                "processed_keys": conn.execute(delete(processed).where(processed.c.created_at < now - dedup_ttl)
                                               ).rowcount,
                "jobs": conn.execute(delete(jobs).where(jobs.c.status.in_(("done", "dead")),
                                                        jobs.c.updated_at < now - job_ttl)).rowcount,
                "rate_hits": conn.execute(delete(rate_hits).where(rate_hits.c.at < now - 60)).rowcount,
            }
        return counts


def new_owner_id() -> str:
    """A unique name for one runner thread's leases."""
    return uuid.uuid4().hex


def _engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql+psycopg://"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    path = url.removeprefix("sqlite:///")
    if path and path != url and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (IMMEDIATE), not pysqlite
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: an acknowledged event must survive a power cut, not only a crash of the process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("assessbot_reading") else "BEGIN IMMEDIATE")

    return engine


def _sqlite_file(url: str) -> str | None:
    path = url.removeprefix("sqlite:///")
    return path if path and path != url and path != ":memory:" else None


class _WriterLock:
    """One writing transaction at a time across the processes and threads using one SQLite file.

    SQLite's busy handler polls with growing sleeps, so under contention its write lock is often free while
    every waiter sleeps, and an acknowledgement can wait seconds behind a few milliseconds of work. Waiting
    here instead (a thread lock, then flock on a file beside the database) hands the turn over at once.
    Other programs opening the database still meet SQLite's own lock and busy timeout.
    """

    _setup = threading.Lock()

    def __init__(self, database: str | None):
        self.path = f"{database}.writelock" if database else None
        self._pid = 0

    def _for_this_process(self) -> None:
        # A forked worker must open its own file: flock belongs to the open file, which a fork would share.
        with self._setup:
            if self._pid != os.getpid():
                self._lock = threading.RLock()
                self._depth = 0
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600) if self.path else None
                self._pid = os.getpid()

    @contextmanager
    def held(self) -> Iterator[None]:
        if self._pid != os.getpid():
            self._for_this_process()
        with self._lock:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
