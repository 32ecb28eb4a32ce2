"""The schema's versions: a v1 database adopted with its rows, later tables added, newer schemas refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect, select, text
from sqlalchemy.engine import make_url

from bot.store import SchemaTooNew, Store, make_engine, metadata, migrations
from tests.support.databases import needs_postgres

V1_TABLES = {"processed_keys", "jobs", "assessments", "audit", "rate_limits", "rate_hits"}


def v1_metadata() -> MetaData:
    """The schema v1 created with create_all (git show 70fab72:bot/storage.py)."""
    md = MetaData()
    Table("processed_keys", md, Column("key", String(200), primary_key=True),
          Column("created_at", Float, nullable=False, index=True))
    Table("jobs", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("kind", String(32), nullable=False), Column("assessment_id", String(64), index=True),
          Column("version", Integer), Column("payload", Text, nullable=False),
          Column("status", String(16), nullable=False, index=True), Column("stage", String(16), nullable=False),
          Column("attempts", Integer, nullable=False), Column("run_after", Float, nullable=False),
          Column("lease_until", Float), Column("lease_owner", String(64)), Column("last_error", Text),
          Column("log_id", String(128)), Column("created_at", Float, nullable=False),
          Column("updated_at", Float, nullable=False, index=True))
    Table("assessments", md, Column("assessment_id", String(64), primary_key=True), Column("owner", String(128)),
          Column("state", Text, nullable=False), Column("applied_version", Integer, nullable=False),
          Column("next_version", Integer, nullable=False), Column("updated_at", Float, nullable=False))
    Table("audit", md, Column("id", Integer, primary_key=True, autoincrement=True), Column("at", Float, nullable=False),
          Column("actor", String(128), nullable=False), Column("assessment_id", String(64), index=True),
          Column("action", String(32), nullable=False), Column("result", String(16), nullable=False),
          Column("detail", Text, nullable=False), Column("log_id", String(128)))
    Table("rate_limits", md, Column("name", String(64), primary_key=True),
          Column("blocked_until", Float, nullable=False))
    Table("rate_hits", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("name", String(64), nullable=False), Column("at", Float, nullable=False, index=True))
    return md


def make_v1(url: str) -> None:
    """A v1 database with a row in every table."""
    engine = make_engine(url)
    v1 = v1_metadata()
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v1.tables["processed_keys"].insert(), {"key": "evt-1", "created_at": 1.0})
        conn.execute(v1.tables["jobs"].insert(), {"kind": "write", "assessment_id": "A1", "version": 1,
                                                  "payload": "{}", "status": "dead", "stage": "start", "attempts": 3,
                                                  "run_after": 1.0, "created_at": 1.0, "updated_at": 2.0,
                                                  "last_error": "1002001", "log_id": "log-1"})
        conn.execute(v1.tables["assessments"].insert(), {"assessment_id": "A1", "owner": "ou_a", "state": "{}",
                                                         "applied_version": 0, "next_version": 1, "updated_at": 1.0})
        conn.execute(v1.tables["audit"].insert(), {"at": 1.0, "actor": "ou_a", "assessment_id": "A1",
                                                   "action": "submit", "result": "ok", "detail": "{}"})
        conn.execute(v1.tables["rate_limits"].insert(), {"name": "feishu", "blocked_until": 0.0})
        conn.execute(v1.tables["rate_hits"].insert(), {"name": "feishu", "at": 1.0})
    engine.dispose()


def test_a_v1_database_is_adopted_with_its_rows_and_gets_the_later_tables(database_url):
    """It stamps the baseline over v1's tables, adds the later ones, and every v1 row is still there."""
    make_v1(database_url)
    store = Store(database_url)
    applied = store.create_schema()
    assert applied == [rev for rev in _all_revisions() if rev != "0001"]
    assert store.schema_version() == (migrations.head(), migrations.head())
    assert store.jobs_by_status() == {"dead": 1}
    assert store.seen("evt-1")
    assert [e.action for e in store.history("A1")] == ["submit"]
    tables = set(inspect(store.engine).get_table_names())
    assert tables >= set(metadata.tables) | {"alembic_version"}
    store.dispose()


def test_an_empty_database_is_built_from_the_revisions_and_matches_the_metadata(database_url):
    """Migrations and schema.py describe the same tables: a table added to one only fails here."""
    store = Store(database_url)
    assert store.create_schema() == _all_revisions()
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert store.create_schema() == []  # a second start has nothing to do
    store.dispose()


def test_a_v1_database_that_already_has_later_tables_is_stamped_where_it_stands(database_url):
    """A database made by create_all before versions (assignments included) is adopted at that revision."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    engine.dispose()
    store = Store(database_url)
    assert store.create_schema() == []
    assert store.schema_version()[0] == migrations.head()
    store.dispose()


def test_a_database_newer_than_the_code_is_refused(database_url, settings):
    """It names both versions; the app does not start; `db current` says so too."""
    store = Store(database_url)
    store.create_schema()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    with pytest.raises(SchemaTooNew, match="9999"):
        Store(database_url).create_schema()
    from bot import create_app

    with pytest.raises(SystemExit, match=r"cannot start: the database's schema \(9999\) is newer"):
        create_app(settings, feishu_api=object(), start_runner=False)  # type: ignore[arg-type]


def test_downgrades_are_refused(database_url):
    """Going back means restoring the backup taken before the upgrade."""
    store = Store(database_url)
    store.create_schema()
    with store.engine.begin() as conn, pytest.raises(NotImplementedError, match="restore the backup"):
        command.downgrade(migrations.config(conn), "base")
    store.dispose()


def test_concurrent_starters_upgrade_once(database_url):
    """Many stores starting at once on a v1 database: one upgrades, the others find it current."""
    make_v1(database_url)
    results, errors = [], []

    def start() -> None:
        store = Store(database_url)
        try:
            results.append(store.create_schema())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results, key=len)[-1] == [rev for rev in _all_revisions() if rev != "0001"]
    assert sum(1 for r in results if r) == 1
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(text("count(*)")).select_from(text("jobs"))).scalar() == 1
    engine.dispose()


@pytest.mark.system  # runs the command line
def test_db_commands_upgrade_and_show_the_version(tmp_path):
    """`assessbot db upgrade` then `db current`, with DATABASE_URL alone (no Feishu credentials)."""
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    make_v1(url)
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}

    def db(*verb: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", "db", *verb], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    assert db("current").stdout.strip() == ("- (not versioned: made before versions existed; `assessbot db upgrade` "
                                            f"adopts it at {migrations.head()})")
    upgraded = db("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"upgraded: {', '.join(_all_revisions()[1:])}; now at {migrations.head()}"
    assert db("current").stdout.strip() == f"{migrations.head()} (head)"


@pytest.mark.system  # runs the command line
def test_db_current_tells_a_new_database_from_one_made_before_versions(tmp_path):
    """A file not there yet is not created by looking; an empty database is empty, not "not versioned"."""
    path = tmp_path / "new.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin"}

    def current() -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", "db", "current"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (0, "")
        return done.stdout.strip()

    assert current() == (f"- (no database yet at {path}: `assessbot db upgrade` or the bot's first start creates it)")
    assert not path.exists()
    sqlite3.connect(path).close()
    assert current() == (f"- (empty: no tables yet; `assessbot db upgrade` or the bot's first start creates them at "
                         f"{migrations.head()})")


@pytest.mark.system  # runs the command line
@needs_postgres
def test_db_commands_name_a_database_that_does_not_exist_in_one_line():
    """A misspelt database name: one line from every command that reads the database, and no traceback."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="assessbot_misspelt")
    shown = url.render_as_string(hide_password=True)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}
    line = (f"the database {shown} cannot be used: database \"assessbot_misspelt\" does not exist; correct "
            "DATABASE_URL or the server's set-up")
    for verb in (["db", "current"], ["db", "upgrade"], ["jobs"], ["export"]):
        done = subprocess.run([sys.executable, "-m", "bot.cli", *verb], env=env, capture_output=True, text=True,
                              timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"assessbot {verb[0]}: {line}\n")


def _all_revisions() -> list[str]:
    return [rev.revision for rev in reversed(list(migrations.scripts().walk_revisions()))]
