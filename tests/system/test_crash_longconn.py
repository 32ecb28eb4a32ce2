"""The long connection's crash test at a small size (the full size is run by hand:
`python -m benchmarks.crash --scenario longconn --kills 20`)."""

from __future__ import annotations

import os

import pytest

from benchmarks.crash.longconn import LongConnConfig, longconn_crash
from tests.support.databases import needs_postgres

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the processes"),
              # each SIGKILL of the holder costs the lease's 30 s TTL: about 2.5 minutes a database; run by hand
              pytest.mark.skipif(not os.environ.get("ASSESSBOT_CRASH_TESTS"),
                                 reason="run by hand: ASSESSBOT_CRASH_TESTS=1 make test-slow")]


@pytest.mark.parametrize("database", ["sqlite", pytest.param(os.environ.get("TEST_DATABASE_URL"), marks=needs_postgres,
                                                             id="postgresql")])
def test_commands_through_a_failing_gateway_to_killed_holders_are_each_applied_exactly_once(database, tmp_path):
    """60 commands pushed through the long connection (some in three frames, some twice with the same event id)
    while the gateway cuts messages, sends them twice, refuses reconnects and drops the connection, and the lease's
    holder is SIGKILLed 3 times: each acknowledged, written once with its value and replied to once, none lost,
    another process connected after every kill, no job stuck or dead."""
    config = LongConnConfig(events=60, kills=3, database=database, instances=1 if database == "sqlite" else 2)
    summary = longconn_crash(config, tmp_path)
    print("\n" + summary.table())
    assert summary.problems == []
    assert (summary.handled_once, summary.lost, summary.applied_twice) == (60, 0, 0)
    assert summary.takeovers == summary.kills >= 3
