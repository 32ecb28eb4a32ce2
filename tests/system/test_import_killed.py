"""An import killed (SIGKILL) while it writes leaves none of the file, run as an operator runs it."""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import sys
from pathlib import Path

from tests.support.jobs import pending_work
from tests.support.terminal import Terminal


def test_an_import_killed_while_it_writes_leaves_none_of_the_file(env, store, database_url):
    rows = [f"{50000 + n},ou_bulk{n % 40:04d},候选人{n},2026-12-07 10:00,2026-12-07 11:00" for n in range(10_000)]
    path = env / "big.csv"
    path.write_text("interview_id,interviewer,candidate,start,end\n" + "\n".join(rows), encoding="utf-8")
    assessbot = str(Path(sys.executable).with_name("assessbot"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the settings are in the environment (the env fixture)
        os.execve(assessbot, [assessbot, "import", str(path), "--env-file", str(env / "absent.env")],
                  {**os.environ, "TERM": "dumb"})
    try:
        Terminal(fd, pid).expect(r"\] [1-4]\d{3}/10000 importing", timeout=120)  # well inside the writing
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert [store.assignments_of(f"ou_bulk{k:04d}") for k in range(40)] == [[]] * 40
    assert pending_work(store) == {}
