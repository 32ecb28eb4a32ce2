"""The schema's versions: a v1 database adopted with its rows, later tables added, newer schemas refused."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from bot.store import SchemaTooNew, Store, make_engine, metadata, migrations
from tests.support.schema_v1 import all_revisions, make_v1


def test_a_v1_database_is_adopted_with_its_rows_and_gets_the_later_tables(database_url):
    """It stamps the baseline over v1's tables, adds the later ones, and every v1 row is still there."""
    make_v1(database_url)
    store = Store(database_url)
    applied = store.create_schema()
    assert applied == [rev for rev in all_revisions() if rev != "0001"]
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
    assert store.create_schema() == all_revisions()
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
    assert sorted(results, key=len)[-1] == [rev for rev in all_revisions() if rev != "0001"]
    assert sum(1 for r in results if r) == 1
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(text("count(*)")).select_from(text("jobs"))).scalar() == 1
    engine.dispose()








