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

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ClauseElement

from bot.store import migrations
from bot.store.errors import Health, Misconfigured, Unavailable, reported
from bot.store.hot import Statements

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
        self._local = threading.local()  # the connection this thread's request pinned (see request)
        self.hot = Statements(self.engine.dialect)

    def create_schema(self, *, quiet: bool = False) -> list[str]:
        """Upgrade the schema to the code's version (bot/store/migrations); the revisions applied.

        Safe when many processes start at once: they take turns (`schema_lock`), and the later ones find the
        schema current. SchemaTooNew when the database was upgraded by a newer release. `quiet`: a failure is not
        logged as an outage (a starting process says in its own words what it does about it).
        """
        with self._schema_turn, self._reported(quiet=quiet), self._begin() as conn:
            schema_lock(conn)
            applied = migrations.upgrade(conn)
        self._schema_ready = True
        return applied

    def schema_version(self) -> tuple[str | None, str]:
        """The database's schema version and the code's."""
        with self._reported(writing=False), self.engine.connect() as conn:
            return migrations.current(conn), migrations.head()

    def table_names(self) -> list[str]:
        """The tables the database holds (none: a new, empty database)."""
        with self._reported(writing=False), self.engine.connect() as conn:
            return inspect(conn).get_table_names()

    def dispose(self) -> None:
        """Close this process's connections; the last user of an SQLite file also removes the writer lock's files.

        SQLite itself removes the -wal and -shm files when the last connection to the file closes cleanly, so their
        absence afterwards says no other connection is open: nothing is left beside the database.
        """
        self.engine.dispose()
        database = _sqlite_file(self.url)
        if database is not None and os.path.exists(f"{database}-wal"):
            _close_last(database)
        if self._writer is not None and database is not None and not os.path.exists(f"{database}-wal"):
            self._writer.remove_files()
        if self._writer is not None:
            self._writer.close()

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
                self._files_writable()

    def _files_writable(self) -> None:
        """SQLite: BEGIN IMMEDIATE succeeds on a file that cannot be written (its lock lives in the -shm file); only
        the commit would fail. Ask the file system, as a commit would meet it."""
        database = _sqlite_file(self.url)
        if database is None:
            return
        with self._reported(writing=True):
            for path in (database, f"{database}-wal"):
                if os.path.exists(path) and not os.access(path, os.W_OK):
                    raise sqlite3.OperationalError(f"attempt to write a readonly database ({path})")

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
    def _reported(self, writing: bool = True, quiet: bool = False) -> Iterator[None]:
        """Unavailable for a database that cannot answer now; then start afresh with new connections."""
        try:
            with reported(None if quiet else self.health, writing):
                yield
        except Unavailable:
            # A connection opened during an outage may stay read-only (SQLite, a file it could not write) or
            # stay on a server that became a standby: once the database is back, only new ones are sure to work.
            # The request's pinned one is dropped too, not handed back: its driver may have lost it mid-statement,
            # where the pool could only fail to roll it back (and log that failure as an error).
            pinned = getattr(self._local, "conn", None)
            if pinned is not None:
                with suppress(Exception):
                    pinned.invalidate()
            self.engine.dispose()
            raise

    @contextmanager
    def request(self) -> Iterator[None]:
        """Pin one connection for every statement of this thread's request (a push): one checkout, its look-ups
        run on it as they come (bot/store/hot.py), its write is one transaction on it. Nested: the outer one."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        if not self._schema_ready:
            self.create_schema()
        with self._reported(writing=False), self.engine.connect() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _begin(self, urgent: bool = False) -> Iterator[Connection]:
        pinned = getattr(self._local, "conn", None)
        with self._writer.held(urgent) if self._writer else nullcontext():
            if pinned is None:
                with self.engine.begin() as conn:
                    yield conn
                return
            pinned.execution_options(assessbot_reading=False)
            with pinned.begin():
                yield pinned

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite a plain BEGIN, which runs beside the writer in WAL mode."""
        if not self._schema_ready:
            self.create_schema()
        pinned = getattr(self._local, "conn", None)
        with (self._reported(writing=False),  # the connection is opened inside it: a refusal is reported
              nullcontext(pinned) if pinned is not None else self.engine.connect() as conn):
            conn.execution_options(assessbot_reading=True)
            with conn.begin():
                yield conn

    def _look_up(self, key: object, statement: ClauseElement, params: dict) -> list[tuple]:
        """The rows of a hot read (compiled once, run on the driver): on the request's pinned connection as it
        is (SQLite: a statement on its own; PostgreSQL: in the transaction the request's write will commit), else
        in a reading transaction of its own."""
        pinned = getattr(self._local, "conn", None)
        if pinned is None:
            with self._reading() as conn:
                return self.hot.run(key, statement, conn, params)
        with self._reported(writing=False):
            return self.hot.run(key, statement, pinned, params)


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
    path = _sqlite_file(url)
    if path is not None:
        _usable_directory(Path(path).parent)
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


def _usable_directory(directory: Path) -> None:
    """Create the SQLite file's directory if it is missing (var/ on a fresh clone); Misconfigured when this process
    cannot create it or write in it, as SQLite must (its -wal and -shm files, the writer lock)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file" if blocker else exc.strerror or str(exc)
        raise Misconfigured(f"the SQLite database's directory {directory} cannot be created ({why}); correct "
                            "DATABASE_URL") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise Misconfigured(f"the SQLite database's directory {directory} is not writable by this user; give it to "
                            "the user the bot runs as, or correct DATABASE_URL")


def _same_file(fd: int, path: str) -> bool:
    """Whether an open file is still the one at `path` (not removed, nor replaced by a new one)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _close_last(database: str) -> None:
    """Open and close the file once, so that SQLite removes its -wal and -shm files if nobody else has it open.

    They stay after every process has gone when the last two closed at the same moment (each saw the other's
    lock and left the clean-up to it) or when one was killed; a stop that comes after theirs tidies up.
    """
    with suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(database, timeout=0)) as conn:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()


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

    The last process to close the database removes both files (`remove_files`), so a clean stop leaves nothing
    beside the database; a process still holding one open takes the one at the path again before using it.
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
                    self._intent_path = self.path.removesuffix(".writelock") + ".urgent"
                    # Two open files: the probe must not convert (and then drop) this process's shared lock.
                    self._intent = os.open(self._intent_path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._probe = os.open(self._intent_path, os.O_RDWR | os.O_CREAT, 0o600)
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
                    self._lock_file()
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

    def _lock_file(self) -> None:
        """flock the lock's file; if a process that stopped removed it meanwhile (remove_files), take the new one."""
        while True:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            if _same_file(self._fd, self.path):
                return
            os.close(self._fd)  # releases the lock on the removed file
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _current_intent(self) -> None:
        """Reopen the urgent-writer file if a process that stopped removed it (else nobody would see this one's).

        Called holding `_urgent`; an announcement already made moves to the new file.
        """
        if not _same_file(self._intent, self._intent_path):
            for old in (self._intent, self._probe):
                os.close(old)
            self._intent = os.open(self._intent_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._probe = os.open(self._intent_path, os.O_RDWR | os.O_CREAT, 0o600)
            if self._urgent_waiting:
                fcntl.flock(self._intent, fcntl.LOCK_SH)

    def close(self) -> None:
        """Close this process's files of the lock (a later writer opens them again)."""
        with self._setup:
            if self._pid == os.getpid():
                for fd in (self._fd, self._intent, self._probe):
                    if fd is not None:
                        os.close(fd)
                self._fd = self._intent = self._probe = None
                self._pid = 0

    def remove_files(self) -> None:
        """Remove the lock's two files unless a writer of any process is at them now (a clean stop leaves nothing).

        Safe while other processes still hold them open: each takes the file at its path again before using it
        (`_lock_file`, `_current_intent`). The removal happens under the exclusive lock, so no writer is inside.
        """
        if self.path is None:
            return
        intent_path = self.path.removesuffix(".writelock") + ".urgent"
        held = []
        try:
            for path in (self.path, intent_path):
                try:
                    fd = os.open(path, os.O_RDWR)
                except FileNotFoundError:
                    continue
                held.append(fd)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a writer of some process is in
            for path in (intent_path, self.path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        except OSError:  # in use, or a directory that cannot be written now: files left behind harm nothing
            pass
        finally:
            for fd in held:
                os.close(fd)

    def _queue_urgent(self, step: int) -> None:
        """Count an urgent writer in (+1) or out (-1); the first in announces it to other processes."""
        with self._urgent:
            self._urgent_waiting += step
            if self._intent is not None and self._urgent_waiting == (1 if step > 0 else 0):
                if step > 0:
                    self._current_intent()  # takes the shared lock itself when it reopens
                fcntl.flock(self._intent, fcntl.LOCK_SH if step > 0 else fcntl.LOCK_UN)
            if not self._urgent_waiting:
                self._urgent.notify_all()

    def _give_way(self, deadline: float) -> None:
        """Wait (until `deadline` at most) while an urgent writer of any process is queued."""
        with self._urgent:
            self._urgent.wait_for(lambda: not self._urgent_waiting, max(deadline - time.monotonic(), 0.0))
        if self._probe is None:
            return
        with self._urgent:
            self._current_intent()
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
