"""The databases every storage test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL names one."""

from __future__ import annotations

import os

import pytest


def database_urls() -> list:
    pg = os.environ.get("TEST_DATABASE_URL")
    reason = "TEST_DATABASE_URL is not set (point it at a throw-away PostgreSQL database to run these)"
    return ["sqlite", pytest.param(pg or "postgresql", marks=pytest.mark.skipif(not pg, reason=reason),
                                   id="postgresql")]
