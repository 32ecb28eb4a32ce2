"""Connections and transactions, one code path for SQLite (the default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and starts every writing transaction with BEGIN IMMEDIATE, so a
transaction that reads and then writes never fails with SQLITE_BUSY; transactions that only read use a plain
BEGIN and, in WAL mode, never wait for the writer. PostgreSQL claims rows with FOR UPDATE SKIP LOCKED so several
workers and instances take different jobs without waiting on each other.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.store.schema import metadata


class Database:
    """An engine, its dialect's INSERT, and the two kinds of transaction (writing, reading)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        self.url = url
        self.clock = clock
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._writer = _WriterLock(_sqlite_file(url)) if self.dialect == "sqlite" else None

    def create_schema(self) -> None:
        """Create the tables that do not exist yet (new tables only; columns are never dropped)."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

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


def make_engine(url: str) -> Engine:
    """An engine for a database URL (postgres://, postgresql:// or sqlite:///)."""
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
