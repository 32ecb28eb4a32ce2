"""The hostile-inputs benchmark keeps working: 2,000 inputs over every door, in this process, all clean."""

from __future__ import annotations

import pytest


@pytest.mark.filterwarnings("ignore:coroutine 'ExpiringCache._start_clear_cron':RuntimeWarning")
def test_two_thousand_hostile_inputs_at_every_door_leave_nothing_escaped_or_written(capsys):
    from benchmarks.hostile import main

    assert main(["--count", "2000"]) == 0, capsys.readouterr().out
    table = capsys.readouterr().out
    for door in ("webhook", "intake", "files", "bitable", "frames"):
        row = next(line for line in table.splitlines() if line.startswith(f"| {door} |"))
        assert row.split(" | ")[3:5] == ["0", "0"], row  # nothing escaped, nothing written that should not be
        assert row.endswith("| yes |"), row  # a good request is still answered
