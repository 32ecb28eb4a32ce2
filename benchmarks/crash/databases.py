"""Databases for the crash test: a scratch PostgreSQL database, and holding the jobs table."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server `server_url` points at, dropped afterwards.

    Without the right to create databases, `server_url`'s own database is emptied and used instead.
    """
    import psycopg

    from bot.store import make_engine, metadata

    plain = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", server_url)
    parts = urlsplit(plain)
    name = f"assessbot_processes_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        engine = make_engine(server_url)
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        engine.dispose()
        yield server_url
        return
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def jobs_frozen(database_url: str) -> Iterator[None]:
    """Hold the jobs table so no process can commit to it: a job that has just PATCHed cannot record it."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the one write lock SQLite has
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    with psycopg.connect(re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", database_url)) as conn:
        # SHARE ROW EXCLUSIVE: reads go on, every INSERT and UPDATE of jobs waits
        conn.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()
