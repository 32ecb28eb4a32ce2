"""The databases every storage test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL names one."""

from __future__ import annotations

import os

import pytest

NO_POSTGRES = ("TEST_DATABASE_URL is not set (point it at a throw-away PostgreSQL database to run these, e.g. "
               "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test)")
needs_postgres = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason=NO_POSTGRES)


def database_urls() -> list:
    pg = os.environ.get("TEST_DATABASE_URL")
    return ["sqlite", pytest.param(pg or "postgresql", marks=needs_postgres, id="postgresql")]


def drop_everything(engine) -> None:  # type: ignore[no-untyped-def]
    """Drop the bot's tables and the schema's version: the next start builds the schema from the beginning."""
    from bot.store import metadata

    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
