"""Long-connection mode with real processes: gunicorn's workers and `assessbot worker` share one connection."""

from __future__ import annotations

import os
import signal
import time

import pytest

from bot.adapters.longconn import LEASE
from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import Gunicorn, wait_until
from bot.store import Store
from tests.support.ids import AID, ALICE
from tests.support.processes import Worker, bot_env, message

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find gunicorn's workers")]


def longconn_env(openapi_url: str, database_url: str) -> dict[str, str]:
    env = bot_env(openapi_url, database_url, FEISHU_EVENT_MODE="longconn", ASSESSBOT_RUNNER_THREADS=2)
    del env["FEISHU_ENCRYPT_KEY"], env["FEISHU_VERIFICATION_TOKEN"]  # not needed over the long connection
    return env


def say(openapi: OpenAPIProcess, n: int) -> dict:
    message_id = f"om_lc{n:028d}"
    openapi.record(message_id, "oc_" + ALICE[3:], ALICE, f"/assess {AID} pass coding={n % 5 + 1}")
    return openapi.push(message(f"/assess {AID} pass coding={n % 5 + 1}", message_id=message_id,
                                event_id=f"ev_lc{n}", sender=ALICE))


def replies(openapi: OpenAPIProcess) -> list[str]:
    return sorted(m["parent_id"] for m in openapi.messages() if m.get("sender") == "app")


def holder(database_url: str) -> str | None:
    store = Store(database_url)
    try:
        lease = store.lease(LEASE)
        return lease.holder if lease is not None and lease.held(time.time()) else None
    finally:
        store.dispose()


def test_three_processes_open_one_connection_and_handle_each_event_once(database_url, tmp_path):
    """Two web workers and a worker, all in long-connection mode: one connection, each push handled once;
    when the holder stops cleanly another process takes over, and nothing is lost."""
    with OpenAPIProcess(tmp_path, longconn=True) as openapi:
        env = longconn_env(openapi.url, database_url)
        worker = Worker(env, tmp_path)
        try:
            with Gunicorn(env, tmp_path, workers=2) as web:
                wait_until(lambda: openapi.longconn()["connections"] == 1, 30.0, 0.1, "a long connection")
                time.sleep(2.0)  # every process has had its turn at the lease by now
                assert (openapi.longconn()["connections"], openapi.longconn()["handshakes"]) == (1, 1)
                assert [say(openapi, n) for n in range(8)] == [{}] * 8
                wait_until(lambda: len(replies(openapi)) == 8, 30.0, 0.1, "eight replies")
                ready = web.readyz()
                assert ready["status"] == "ok" and ready["connection"]["state"] == "connected"
                first = holder(database_url)
                pids = [str(pid) for pid in (web.proc.pid, *web.worker_pids(), worker.proc.pid)]
                assert first is not None and first.split(":")[1] in pids
                # gunicorn stops its workers, whose worker_exit hook closes the connection
                in_web = first.split(":")[1] in [str(p) for p in web.worker_pids()]
                stopping = web.proc if in_web else worker.proc
                started = time.monotonic()
                stopping.send_signal(signal.SIGTERM)
                stopping.wait(15)
                assert time.monotonic() - started < 12.0
                wait_until(lambda: holder(database_url) not in (None, first), 20.0, 0.2, "another holder")
                wait_until(lambda: openapi.longconn()["connections"] == 1, 20.0, 0.1, "the new connection")
                assert [say(openapi, n) for n in range(8, 10)] == [{}] * 2
                wait_until(lambda: len(replies(openapi)) == 10, 30.0, 0.1, "ten replies")
        finally:
            worker.stop()
        time.sleep(0.5)
        assert openapi.longconn()["connections"] == 0
        assert holder(database_url) is None
        assert replies(openapi) == sorted(f"om_lc{n:028d}" for n in range(10))
        # ten writes to one assessment: a write queued behind another is carried by the later PATCH (versioned
        # writes), so there are at most ten PATCHes, and never one that no command asked for
        assert 1 <= len(openapi.calls("patch")) <= 10
