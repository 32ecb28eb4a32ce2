"""The schedule's crash test at a small size (the full size, ≥ 100 SIGKILLs a database, is run by hand:
`python -m benchmarks.crash --scenario schedule --kills 100`, about 2 minutes on SQLite and 3 on PostgreSQL)."""

from __future__ import annotations

import os

import pytest

from benchmarks.crash.schedule import ScheduleConfig, schedule_crash
from tests.support.databases import needs_postgres

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find gunicorn's workers"),
              # about 2.5 minutes on both databases: run by hand until it has proven steady on a loaded machine
              pytest.mark.skipif(not os.environ.get("ASSESSBOT_CRASH_TESTS"),
                                 reason="run by hand: ASSESSBOT_CRASH_TESTS=1 make test-slow")]


@pytest.mark.parametrize("database", ["sqlite", pytest.param(os.environ.get("TEST_DATABASE_URL"), marks=needs_postgres,
                                                             id="postgresql")])
def test_a_schedule_imported_by_every_door_while_processes_die_is_announced_created_and_written_back_once(
        database, tmp_path):
    """200 interviews through the intake API and `assessbot import`, 24 in a followed table, 10 overdue ones and
    30 /assess commands, while web workers, the separate worker and the import are SIGKILLed: each ended interview
    named by exactly one message, one digest a person, one escalation and one assessment each, every import whole,
    one progress card per application, the table's status as the bot's, no job stuck or dead."""
    config = ScheduleConfig(interviews=200, kills=10, seconds=15.0, database=database,
                            instances=1 if database == "sqlite" else 2)
    summary = schedule_crash(config, tmp_path)
    print("\n" + summary.table())
    assert summary.problems == []
    assert summary.announced >= 150 and summary.escalations == 10 and summary.created == 30
