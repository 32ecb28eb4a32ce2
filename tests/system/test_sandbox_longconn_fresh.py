"""`assessbot sandbox --longconn` from a fresh directory, as a newcomer starts it."""

from __future__ import annotations

import subprocess

import pytest

from bot.sandbox import processes
from tests.support.ids import AID
from tests.support.processes import ASSESSBOT


@pytest.mark.slow
def test_assessbot_sandbox_longconn_runs_the_chat_from_a_fresh_directory(tmp_path):
    """It starts the gateway and the bot in long-connection mode, chats through a pipe, and stops everything."""
    env = processes.clean_env(LANG="C.UTF-8", TERM="dumb", COLUMNS="200")
    result = subprocess.run([ASSESSBOT, "sandbox", "--longconn", "--lang", "en"], cwd=tmp_path, env=env,
                            input=f"/assess {AID} pass coding=4\n:state {AID}\n", capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The bot runs in long-connection mode" in result.stdout
    assert "┌─ Assessment updated · 6930815272790114324" in result.stdout
    assert "conclusion: 2 (Pass)" in result.stdout and result.stdout.rstrip().endswith("Stopped.")
    log = (tmp_path / "var" / "sandbox-bot.log").read_text(encoding="utf-8")
    assert "long connection connected" in log and "Traceback" not in log
