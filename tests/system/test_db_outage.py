"""When the database fails, with real processes: gunicorn (2 workers), the local Open API, PostgreSQL or SQLite.

Persist or refuse: a push the bot cannot store is answered 503 and re-pushed; nothing answered 200 is lost;
the server stays up and comes back by itself.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from benchmarks.crash.databases import postgres_database
from bot.sandbox.openapi.process import OpenAPIProcess as OpenAPI
from bot.sandbox.processes import Gunicorn, wait_until
from tests.support import outage
from tests.support.databases import NO_POSTGRES
from tests.support.processes import bot_env, deliver, message
from tests.support.tcpproxy import TcpProxy

SERVER = os.environ.get("TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(not SERVER, reason=NO_POSTGRES)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")]
OUTAGE = 10.0


@pytest.fixture
def openapi(tmp_path):
    with OpenAPI(tmp_path) as api:
        yield api


@pytest.fixture
def postgres():
    with postgres_database(SERVER) as url:
        yield url


def _via(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def _server(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


@needs_postgres
def test_a_postgresql_that_refuses_connections_for_10_s_loses_nothing(openapi, postgres, tmp_path):
    """(a) 200 commands, re-pushed until acknowledged, while PostgreSQL is unreachable for 10 s."""
    with TcpProxy(_server(postgres)) as proxy, Gunicorn(bot_env(openapi.url, _via(proxy, postgres)), tmp_path) as web:
        def refuse() -> None:
            proxy.down()
            time.sleep(OUTAGE)
            proxy.up()

        report = outage.run(web, openapi, postgres, refuse)
    print("\n(a) PostgreSQL refusing connections for 10 s\n" + report.table())
    assert report.problems == []
    assert report.statuses.get("503", 0) > 0 and report.readyz_503 > 0
    assert report.ready_again_after_s is not None and report.ready_again_after_s < 5.0
    assert report.log_lines["database unavailable"] <= 2 * 2  # once per worker (per outage seen)


@needs_postgres
def test_postgresql_connections_killed_mid_transaction_lose_nothing(openapi, postgres, tmp_path):
    """(b) The same 200 commands while every connection of the bot is terminated, again and again, for 10 s."""
    terminated = []
    name = make_url(postgres).database
    admin = make_url(postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    with Gunicorn(bot_env(openapi.url, postgres), tmp_path) as web, psycopg.connect(admin, autocommit=True) as conn:
        def kill() -> None:
            until = time.monotonic() + OUTAGE
            while time.monotonic() < until:
                terminated.extend(conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'", (name,)).fetchall())
                time.sleep(0.05)

        report = outage.run(web, openapi, postgres, kill)
    print(f"\n(b) {len(terminated)} PostgreSQL backends terminated over 10 s\n" + report.table())
    assert report.problems == []
    assert len(terminated) > 20


@needs_postgres
def test_two_instances_started_together_on_an_empty_postgresql_both_serve(openapi, tmp_path):
    """(c) Five times: two instances start at the same moment on a new, empty database (each creates the schema)."""
    for round_ in range(5):
        with postgres_database(SERVER) as url, ThreadPoolExecutor(2) as pool:
            env = bot_env(openapi.url, url)
            starts = [pool.submit(Gunicorn, env, tmp_path, f"web{round_}-{n}", workers=1) for n in range(2)]
            instances = [start.result() for start in starts]  # raises if one did not come up
            try:
                for n, web in enumerate(instances):
                    payload = message(f"/assess 69500000000000000{round_}{n} pass coding=3",
                                      message_id=f"om_start{round_}{n}", event_id=f"ev_start{round_}{n}",
                                      sender="ou_start00000000000000000000000000")
                    assert deliver(web.url, payload)[0] == 200
                    assert web.readyz()["database"] == "ok"
            finally:
                for web in instances:
                    web.stop()


@needs_postgres
def test_the_bot_starts_while_postgresql_is_down_and_serves_once_it_is_back(openapi, postgres, tmp_path):
    """No worker fails to boot: /healthz answers, pushes get 503, then 200 within seconds of the database."""
    with TcpProxy(_server(postgres)) as proxy:
        proxy.down()
        with Gunicorn(bot_env(openapi.url, _via(proxy, postgres)), tmp_path) as web:
            payload = message("/assess 6950000000000000999 pass coding=4", message_id="om_boot0001",
                              event_id="ev_boot0001", sender="ou_boot000000000000000000000000000")
            assert deliver(web.url, payload)[0] == 503
            assert web.readyz() == {"status": "unavailable", "database": "unreachable"}
            proxy.up()
            back = time.monotonic()
            wait_until(lambda: deliver(web.url, payload)[0] == 200, 10.0, 0.2, "the push to be stored")
            print(f"\nstored {time.monotonic() - back:.2f} s after the database came back")
            wait_until(lambda: any(m.get("parent_id") == "om_boot0001" for m in openapi.messages()), 20.0, 0.2,
                       "the reply")
            assert web.proc.poll() is None


def _immutable(paths: list[Path], on: bool) -> None:
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True, capture_output=True)


def _can_make_immutable(directory: Path) -> bool:
    probe = directory / "chattr-probe"
    probe.write_bytes(b"")
    try:
        _immutable([probe], True)
    except (OSError, subprocess.CalledProcessError):
        return False
    _immutable([probe], False)
    return True


@pytest.mark.parametrize("fault", ["locked", "read-only"])
def test_sqlite_that_cannot_be_written_for_10_s_loses_nothing(openapi, tmp_path, fault):
    """(d) SQLite locked by another program past the busy timeout, or its files made read-only, for 10 s.

    Read-only uses the immutable attribute (`chattr +i`), which even root cannot write through, unlike a
    chmod; it needs a file system that has it (ext4, xfs, btrfs), else the case is skipped.
    """
    if fault == "read-only" and not _can_make_immutable(tmp_path):
        pytest.skip("this file system or process cannot set the immutable attribute (chattr +i)")
    path = tmp_path / "assessbot.db"
    url = f"sqlite:///{path}"
    with Gunicorn(bot_env(openapi.url, url), tmp_path) as web:
        def lock() -> None:
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            time.sleep(OUTAGE)
            holder.execute("ROLLBACK")
            holder.close()

        def read_only() -> None:
            files = [f for f in (path, Path(f"{path}-wal")) if f.exists()]
            _immutable(files, True)
            try:
                time.sleep(OUTAGE)
            finally:
                _immutable(files, False)

        report = outage.run(web, openapi, url, lock if fault == "locked" else read_only, commands=120)
    print(f"\n(d) SQLite {fault} for 10 s\n" + report.table())
    assert report.problems == []
    assert report.statuses.get("503", 0) > 0 and report.readyz_503 > 0
