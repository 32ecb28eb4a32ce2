"""Connections and transactions, one code path for SQLite (the default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and starts every writing transaction with BEGIN IMMEDIATE, so a
transaction that reads and then writes never fails with SQLITE_BUSY; transactions that only read use a plain
BEGIN and, in WAL mode, never wait for the writer. PostgreSQL claims rows with FOR UPDATE SKIP LOCKED so several
workers and instances take different jobs without waiting on each other.

Every transaction reports a database that cannot answer now as `Unavailable` (bot/store/errors.py). The schema
is upgraded to the code's version at start, or, when the database is down then, by the first transaction once
it is back.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.store import migrations
from bot.store.errors import Health, Unavailable, reported

# How long a transaction waits for SQLite's write lock, or for a PostgreSQL connection from the pool, before the
# database is reported unavailable: within Feishu's 3 s, so a push that cannot be stored is refused with a 503
# (and re-pushed) rather than left to time out, and request threads are not held for long.
LOCK_TIMEOUT = 2.5
YIELD_AT_MOST = 0.25  # seconds a job runner's write waits while acknowledgements of its process are queued
CONNECT_TIMEOUT = 5  # seconds to open a PostgreSQL connection (an unreachable server may not refuse at once)
# Any fixed number, the same in every process that changes the schema (pg_advisory_xact_lock's key).
SCHEMA_LOCK_KEY = 0x61737365737362  # "assessb"


class Database:
    """An engine, its dialect's INSERT, and the two kinds of transaction (writing, reading)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time, lock_timeout: float = LOCK_TIMEOUT):
        self.url = url
        self.clock = clock
        self.engine = make_engine(url, lock_timeout)
        self.dialect = self.engine.dialect.name
        self.health = Health()
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._writer = _WriterLock(_sqlite_file(url), lock_timeout) if self.dialect == "sqlite" else None
        self._schema_ready = False
        self._schema_turn = threading.Lock()

    def create_schema(self) -> list[str]:
        """Upgrade the schema to the code's version (bot/store/migrations); the revisions applied.

        Safe when many processes start at once: they take turns (`schema_lock`), and the later ones find the
        schema current. SchemaTooNew when the database was upgraded by a newer release.
        """
        with self._schema_turn, self._reported(), self._begin() as conn:
            schema_lock(conn)
            applied = migrations.upgrade(conn)
        self._schema_ready = True
        return applied

    def schema_version(self) -> tuple[str | None, str]:
        """The database's schema version and the code's."""
        with self._reported(writing=False), self.engine.connect() as conn:
            return migrations.current(conn), migrations.head()

    def dispose(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise Unavailable unless the database answers (and its tables exist) and can write: SQLite always (another
        program may hold its lock, or the file be read-only, while reads still work), PostgreSQL after a failure.

        On SQLite this process may not have tried to write lately (an idle job runner only reads), so only a
        write transaction tells whether an acknowledgement would be stored now.
        """
        with self._reading() as conn:
            conn.execute(select(1))
        if self._writer is not None or self.health.down_since is not None:
            with self.transaction() as conn:
                conn.execute(select(1))

    @contextmanager
    def transaction(self, urgent: bool = False) -> Iterator[Connection]:
        """A writing transaction; Unavailable when the database cannot take it now.

        `urgent` (an acknowledgement Feishu is waiting for): on SQLite, this process's other writers let it go first.
        """
        if not self._schema_ready:
            self.create_schema()
        with self._reported(), self._begin(urgent) as conn:
            yield conn

    @contextmanager
    def _reported(self, writing: bool = True) -> Iterator[None]:
        """Unavailable for a database that cannot answer now; then start afresh with new connections."""
        try:
            with reported(self.health, writing):
                yield
        except Unavailable:
            # A connection opened during an outage may stay read-only (SQLite, a file it could not write) or
            # stay on a server that became a standby: once the database is back, only new ones are sure to work.
            self.engine.dispose()
            raise

    @contextmanager
    def _begin(self, urgent: bool = False) -> Iterator[Connection]:
        with self._writer.held(urgent) if self._writer else nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite a plain BEGIN, which runs beside the writer in WAL mode."""
        if not self._schema_ready:
            self.create_schema()
        with self._reported(writing=False), self.engine.connect() as conn:
            conn.execution_options(assessbot_reading=True)
            with conn.begin():
                yield conn


def schema_lock(conn: Connection) -> None:
    """Take the schema's turn for the rest of this transaction: one process at a time creates or migrates tables.

    PostgreSQL: a transaction-level advisory lock, released by the commit that publishes the new tables, so the
    next process sees them and creates nothing twice. SQLite: the transaction's BEGIN IMMEDIATE (and the writer
    lock around it) already serialise every writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def make_engine(url: str, lock_timeout: float = LOCK_TIMEOUT) -> Engine:
    """An engine for a database URL (postgres://, postgresql:// or sqlite:///)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql+psycopg://"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=lock_timeout,
                             connect_args={"connect_timeout": CONNECT_TIMEOUT})
    path = url.removeprefix("sqlite:///")
    if path and path != url and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": lock_timeout, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (IMMEDIATE), not pysqlite
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
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
    Other programs opening the database still meet SQLite's own lock and busy timeout; while one holds it past
    that timeout, a transaction that has already waited `timeout` for its turn here gives up at once, so waits
    stay bounded instead of queueing one timeout after another.

    Acknowledgements go first, in every process sharing the file: while an urgent writer waits, its process
    holds a shared flock on a second file (`.urgent`), and a writer that is not urgent (the job runner's
    bookkeeping) waits, for at most YIELD_AT_MOST, until no urgent writer of this process is queued and it can
    take that file exclusively for a moment (nobody else's urgent writer is queued).
    """

    _setup = threading.Lock()

    def __init__(self, database: str | None, timeout: float = LOCK_TIMEOUT):
        self.path = f"{database}.writelock" if database else None
        self.timeout = timeout
        self._pid = 0

    def _for_this_process(self) -> None:
        # A forked worker must open its own files: flock belongs to the open file, which a fork would share.
        with self._setup:
            if self._pid != os.getpid():
                self._lock = threading.RLock()
                self._urgent = threading.Condition()
                self._urgent_waiting = 0
                self._owner: int | None = None
                self._depth = 0
                self._fd = self._intent = self._probe = None
                if self.path:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    intent = self.path.removesuffix(".writelock") + ".urgent"
                    # Two open files: the probe must not convert (and then drop) this process's shared lock.
                    self._intent = os.open(intent, os.O_RDWR | os.O_CREAT, 0o600)
                    self._probe = os.open(intent, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()

    @contextmanager
    def held(self, urgent: bool = False) -> Iterator[None]:
        if self._pid != os.getpid():
            self._for_this_process()
        asked = time.monotonic()
        nested = self._owner == threading.get_ident()  # a nested transaction never waits for its own turn
        if urgent and not nested:
            self._queue_urgent(+1)
        elif not nested:
            self._give_way(asked + YIELD_AT_MOST)
        try:
            self._lock.acquire()
            try:
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._lock.release()
                raise
        finally:
            if urgent and not nested:
                self._queue_urgent(-1)
        outer, self._owner = self._owner, threading.get_ident()
        self._depth += 1
        try:
            if self._depth == 1 and time.monotonic() - asked > self.timeout:
                raise Unavailable("the database stayed locked past its timeout")
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._owner = outer
            self._lock.release()

    def _queue_urgent(self, step: int) -> None:
        """Count an urgent writer in (+1) or out (-1); the first in announces it to other processes."""
        with self._urgent:
            self._urgent_waiting += step
            if self._intent is not None and self._urgent_waiting == (1 if step > 0 else 0):
                fcntl.flock(self._intent, fcntl.LOCK_SH if step > 0 else fcntl.LOCK_UN)
            if not self._urgent_waiting:
                self._urgent.notify_all()

    def _give_way(self, deadline: float) -> None:
        """Wait (until `deadline` at most) while an urgent writer of any process is queued."""
        with self._urgent:
            self._urgent.wait_for(lambda: not self._urgent_waiting, max(deadline - time.monotonic(), 0.0))
        if self._probe is None:
            return
        while True:
            try:
                fcntl.flock(self._probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.001)
                continue
            fcntl.flock(self._probe, fcntl.LOCK_UN)
            return
