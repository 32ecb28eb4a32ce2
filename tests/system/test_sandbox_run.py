"""`assessbot run` without credentials, driven through a pseudo-terminal as a person would use it."""

from __future__ import annotations

import os
import pty
from pathlib import Path

import pytest

from bot.sandbox import processes
from tests.support.ids import AID
from tests.support.processes import ASSESSBOT
from tests.support.terminal import Terminal, alive, descendants, stop


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc (Linux)")
def test_make_run_without_credentials_is_a_chat_that_records_assessments_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FEISHU_", "ASSESSBOT_")) and k not in ("DATABASE_URL", "PORT", "WEB_CONCURRENCY")}
    temp = tmp_path / "tmp"
    temp.mkdir()
    env.update(LANG="C.UTF-8", TERM="dumb", COLUMNS="200", TMPDIR=str(temp))
    pid, fd = pty.fork()
    if pid == 0:  # the child: a fresh working directory with no .env and no var/
        os.chdir(tmp_path)
        os.execve(ASSESSBOT, [ASSESSBOT, "run"], env)
    term = Terminal(fd, pid)
    try:
        term.expect(r"(?s)assessbot sandbox: .*?--fresh starts over", timeout=90)
        term.expect(r"> ")

        term.line(f"/assess {AID} pass coding=4")
        card = term.expect(r"\[1\] Edit\n└─")
        assert "┌─ Assessment updated · 6930815272790114324" in card and "│ Coding: 4 / 5" in card

        term.line(f"/assess {AID}")
        form = term.expect(r"\[1\] Submit   \[2\] Reset\n└─")
        assert "(1) Pass" in form and "(2) 4" in form
        term.line(":fill")
        for answer in ("3", "2", "3", "", "P5", "2", "hello", "solid", "", ""):  # pending, coding 2, design 3, …
            term.expect(r"› |Submit\? \[Y/n\] ")
            term.line(answer)
        saved = term.expect(r"\[1\] Edit\n└─")
        assert "✓ Assessment saved" in saved and "│ Conclusion: Pending" in saved and "│ Coding: 2 / 5" in saved

        term.line(f":state {AID}")
        state = term.expect(r"username: Sandbox Interviewer")
        assert "conclusion: 3 (Pending)" in state and "编码能力: 2" in state and "建议职级: P5" in state
        assert "亮点: 工程质量" in state and "content: solid" in state
        assert (tmp_path / "var" / "sandbox-session.json").is_file()

        children = descendants(pid)
        assert len(children) >= 3  # the local Open API, gunicorn's master and its workers
        term.type("\x03")  # Ctrl-C
        term.expect(r"Stopped\.", timeout=30)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert [p for p in children if alive(p)] == []
        # nothing left but the state the next run carries on from, and the logs: no -wal, lock or metrics files
        assert sorted(p.name for p in (tmp_path / "var").iterdir()) == [
            "sandbox-bot.log", "sandbox-openapi.json", "sandbox-openapi.log", "sandbox.db"]
        assert list(temp.iterdir()) == []
    finally:
        stop(pid, children if "children" in locals() else descendants(pid))
        os.close(fd)



def test_a_fresh_sandbox_shows_the_reminder_at_once_and_filling_it_creates_then_patches(tmp_path):
    env = processes.clean_env(LANG="C.UTF-8", TERM="dumb", COLUMNS="200")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execve(ASSESSBOT, [ASSESSBOT, "run"], env)
    term = Terminal(fd, pid)
    try:
        term.expect(r"(?s)assessbot sandbox: .*?--fresh starts over", timeout=90)
        reminder = term.expect(r"\[1\] Fill in feedback   \[2\] Remind me later   \[3\] Not my interview(?s:.*?)└─",
                               timeout=30)
        assert "Your interview feedback is due" in reminder and "张伟" in reminder
        assert "李娜" not in reminder and "王芳" not in reminder  # not due yet; already submitted
        term.line(":click 1")
        form = term.expect(r"\[1\] Submit   \[2\] Reset(?s:.*?)└─")
        assert "张伟" in form and "Feedback form: Engineering interview form (version 1)" in form
        term.line(":fill")  # conclusion, code quality, system design, strengths, notes, level, comment, name
        for answer in ("2", "2", "8", "1,2", "clean code", "P6", "solid", "", ""):
            term.expect(r"› |Submit\? \[Y/n\] ")
            term.line(answer)
        saved = term.expect(r"\[1\] Edit\n└─")
        assert "✓ Assessment saved" in saved and "张伟" in saved and "Code quality: Good (4)" in saved
        term.line("/assess 6960000000000000001 系统设计=9")  # by the interview's id and the form's title: a PATCH
        edited = term.expect(r"\[1\] Edit\n└─")
        assert "System design: 9 / 10" in edited and "Score: 13" in edited
        term.line(":quit")
        term.expect(r"Stopped\.", timeout=30)
        os.waitpid(pid, 0)
        state = (tmp_path / "var" / "sandbox-openapi.json").read_text(encoding="utf-8")
        import json

        saved_state = json.loads(state)
        mine = [a for a in saved_state["assessments"].values() if a["external_interview_id"] == "6960000000000000001"]
        assert len(mine) == 1 and mine[0]["content"] == "solid"
        assert any(a["conclusion"] == 2 for a in mine)
    finally:
        stop(pid, descendants(pid))
        os.close(fd)
