"""Ctrl-C at any moment stops the sandbox and everything it started."""

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
def test_ctrl_c_while_waiting_for_a_reply_with_a_command_typed_ahead_leaves_no_process(tmp_path):
    env = processes.clean_env(LANG="C.UTF-8", TERM="dumb", COLUMNS="200")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execve(ASSESSBOT, [ASSESSBOT, "sandbox", "--lang", "en"], env)
    term = Terminal(fd, pid)
    children: set[int] = set()
    try:
        term.expect(r"(?s)assessbot sandbox: .*?--fresh starts over", timeout=90)
        # The seeded interview has ended: its reminder is printed over the first prompt, which comes back after it.
        # Typing only then keeps the keystrokes apart from that redraw.
        term.expect(r"(?s)Your interview feedback is due.*?> ", timeout=30)
        children = descendants(pid)
        term.type(f"/assess {AID} pass coding=4\r")
        term.expect("coding=4")  # echoed: the console has the line and waits for the bot's reply
        # Typed ahead while waiting, then Ctrl-C, in one write: the terminal discards the typed line when Ctrl-C
        # comes, so the interrupt never falls in the middle of readline taking in keystrokes (GNU readline then
        # waits for one more key before it looks at signals, a limit of readline that a person never meets).
        term.type(f"/assess {AID}\r\x03")
        term.expect(r"Stopped\.", timeout=30)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert [p for p in children if alive(p)] == []
        assert not (tmp_path / "var" / "sandbox-session.json").exists()
    finally:
        stop(pid, children or descendants(pid))
        os.close(fd)
