"""The schema's versions (Alembic revisions in `versions/`), and upgrading a database to the code's version.

Configured in code, no alembic.ini: `upgrade(conn)` runs inside the caller's transaction (under `schema_lock`),
so several processes starting at once take turns and the second finds nothing to do. A database made before
versions existed (its tables there, no `alembic_version`) is adopted: stamped at the newest revision whose
tables all exist, then upgraded from there, its rows untouched. A database stamped with a revision this code
does not know is newer than the code: `SchemaTooNew`, and nothing starts against it. Downgrades are refused
(restore the backup taken before the upgrade, docs/deploy.md).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import Inspector

HERE = Path(__file__).resolve().parent
log = logging.getLogger("assessbot.store")
VERSION_TABLE = "alembic_version"


class SchemaTooNew(Exception):
    """The database was upgraded by a newer release than this code."""


def config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The code's schema version."""
    return scripts().get_current_head()


def current(conn: Connection) -> str | None:
    """The database's schema version (None: not versioned yet)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection) -> list[str]:
    """Bring the database to the code's version in this transaction; the revisions applied (adopted: marked)."""
    found = current(conn)
    if found == head():
        return []
    if found is not None and not _known(found):
        raise SchemaTooNew(f"the database's schema ({found}) is newer than this release's ({head()}); "
                           "upgrade assessbot, or restore the backup taken before the database was upgraded")
    if found is None:
        adopted = _adoptable(conn)
        if adopted is not None:
            command.stamp(config(conn), adopted)
            found = adopted
    pending = list(reversed([rev.revision for rev in scripts().iterate_revisions(head(), found)]))
    command.upgrade(config(conn), "head")
    log.info("schema upgraded", extra={"from_version": found, "to_version": head(), "revisions": pending})
    return pending


def _known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except Exception:
        return False


def _adoptable(conn: Connection) -> str | None:
    """The newest revision whose tables and indexes all exist already (a database made before versions), or None.

    A revision names what it creates: `TABLES`, `INDEXES` as (table, index) pairs and `COLUMNS` as (table, column)
    pairs.
    """
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    adopted = None
    for rev in reversed(list(scripts().walk_revisions())):  # oldest first
        module = import_module(f"{__name__}.versions.{Path(rev.path).stem}")
        tables, indexes = set(getattr(module, "TABLES", ())), set(getattr(module, "INDEXES", ()))
        columns = set(getattr(module, "COLUMNS", ()))
        if (not (tables or indexes or columns) or not tables <= existing
                or not indexes <= _indexes(inspector, indexes) or not columns <= _columns(inspector, columns)):
            break
        adopted = rev.revision
    return adopted


def _columns(inspector: Inspector, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (table, column) pairs that exist among the tables `wanted` names."""
    tables = {table for table, _ in wanted} & set(inspector.get_table_names())
    return {(table, column["name"]) for table in tables for column in inspector.get_columns(table)}


def _indexes(inspector: Inspector, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (table, index) pairs that exist among the tables `wanted` names."""
    tables = {table for table, _ in wanted} & set(inspector.get_table_names())
    return {(table, index["name"]) for table in tables for index in inspector.get_indexes(table)}
