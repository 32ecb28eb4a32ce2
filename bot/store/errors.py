"""When the database cannot store or read now, as opposed to a bug: decided here, once, for every driver.

"Unavailable" covers what goes away by itself or by an operator's hand, never by changing the code: the server
unreachable, restarting or failing over (read-only), connections cut, too many connections or the pool
exhausted, a disk full, a lock held past its timeout. The store raises `Unavailable` for those, so the web edge
refuses the push (Feishu re-pushes it) and the job runner waits, instead of either taking them for bugs.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa

log = logging.getLogger("assessbot.store")

# SQLSTATE classes: 08 connection exception, 40 transaction rollback (serialization failure, deadlock), 53
# insufficient resources (disk full, out of memory, too many connections), 57 operator intervention (shutdown,
# pg_terminate_backend, cannot connect now), 58 system error (I/O); and two single states: 25006 read-only
# transaction (a standby after a failover), 55P03 lock not available.
_PG_CLASSES = ("08", "40", "53", "57", "58")
_PG_STATES = frozenset({"25006", "55P03"})
# SQLite primary result codes: BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL.
_SQLITE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
_SQLITE_WORDS = ("locked", "readonly", "read-only", "disk", "full", "unable to open", "i/o")
# The writer lock's file beside an SQLite database: a full, read-only or unreadable disk.
_OS_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM})


# What a PostgreSQL server answers when the settings are wrong rather than the server away: a database or role that
# does not exist, a refused password or host. psycopg reports a failed connection without its SQLSTATE, so the
# server's words are matched; a running bot still takes these for an outage (an operator may be fixing them).
_PG_SETTINGS_WRONG = ("does not exist", "authentication failed", "no password supplied", "no pg_hba.conf entry",
                      "permission denied for database")


class Unavailable(Exception):
    """The database cannot store or read now; the same request will succeed once it is back."""


class Misconfigured(Exception):
    """DATABASE_URL names something this process can never use as it stands (the message says what and where)."""


def unavailable(exc: BaseException) -> bool:
    """Whether an exception means "the database cannot do this now" rather than a bug."""
    if isinstance(exc, (Unavailable, sa.TimeoutError)):  # TimeoutError: the connection pool is exhausted
        return True
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_CODES
        return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in _SQLITE_WORDS)
    if isinstance(exc, OSError):
        return exc.errno in _OS_ERRNOS
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate
        if state is None:  # no answer from a server at all: refused, reset, closed, timed out
            return isinstance(exc, psycopg.OperationalError)
        return state[:2] in _PG_CLASSES or state in _PG_STATES
    return False


def reason(exc: BaseException) -> str:
    """A short description of a database failure that is safe to log: the driver's error, never SQL or values."""
    while isinstance(exc, Unavailable) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, sa.TimeoutError):
        return "TimeoutError: no free connection in the pool"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:160]}"


def misconfigured(exc: BaseException) -> str | None:
    """What is wrong when a failure comes from the settings and will not go away by waiting (else None)."""
    while exc.__cause__ is not None and isinstance(exc, Unavailable):
        exc = exc.__cause__
    if isinstance(exc, Misconfigured):
        return str(exc)
    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    import psycopg

    if not isinstance(exc, psycopg.OperationalError) or exc.sqlstate not in (None, "28000", "28P01", "3D000"):
        return None  # only a refused connection: a statement's error is a bug, or an outage
    said = _driver_said(exc)
    return said if any(words in said for words in _PG_SETTINGS_WRONG) else None


def explain(exc: BaseException, url: str) -> str:
    """One line for a person about a database that cannot be used: which one, what is wrong, whether it will pass."""
    from bot.store.migrations import SchemaTooNew

    if isinstance(exc, (SchemaTooNew, Misconfigured)):
        return str(exc)
    where = shown(url)
    wrong = misconfigured(exc)
    if wrong is not None:
        return f"the database {where} cannot be used: {wrong}; correct DATABASE_URL or the server's set-up"
    return f"the database {where} cannot be reached now: {_driver_said(exc)}"


def shown(url: str) -> str:
    """A database URL as it may be printed and logged: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: nothing of it can be shown safely
        return "in DATABASE_URL"


def _driver_said(exc: BaseException) -> str:
    """The driver's words without their wrapping: "Connection refused", 'database "x" does not exist'."""
    while isinstance(exc, Unavailable) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, sa.TimeoutError):
        return "no free connection in the pool"
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "FATAL:" in text:
        return " ".join(text.rsplit("FATAL:", 1)[1].split())
    if " failed: " in text:
        return text.rsplit(" failed: ", 1)[1].strip()
    return text.removeprefix("connection failed: ").strip()


class Health:
    """Whether the database can store now; one log line when it stops and one when a write succeeds again."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.last_reason = ""
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self.last_reason = reason(exc)
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        log.warning("database unavailable: pushes are refused until it is back", extra={"reason": self.last_reason})

    def succeeded(self) -> None:
        if self.down_since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self.down_since is None:
                return
            lasted, self.down_since = time.monotonic() - self.down_since, None
        log.warning("database available again", extra={"unavailable_seconds": round(lasted, 3)})


@contextmanager
def reported(health: Health | None, writing: bool = True) -> Iterator[None]:
    """Turn a database failure inside the block into `Unavailable` (recorded in `health`, if given); other errors pass.

    Only a write that succeeds proves the database is back: reads go on while SQLite is locked or full.
    """
    try:
        yield
    except Exception as exc:
        if not unavailable(exc):
            raise
        if health is not None:
            health.failed(exc)
        if isinstance(exc, Unavailable):
            raise
        raise Unavailable(reason(exc)) from exc
    if writing and health is not None:
        health.succeeded()
