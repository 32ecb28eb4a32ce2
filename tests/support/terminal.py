"""Driving a command through a pseudo-terminal, as a person would, and checking what it leaves running."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import signal
import time
from pathlib import Path


class Terminal:
    """The master side of a pty: type into it, wait for text to appear."""

    def __init__(self, fd: int, pid: int):
        self.fd, self.pid = fd, pid
        self.seen = ""  # everything printed so far, escape sequences removed
        self.mark = 0  # where the last expect() stopped
        # a read can end inside a multi-byte character (the prompt's "›"): decode across reads
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line(self, text: str = "") -> None:
        self.type(text + "\r")
        time.sleep(0.05)  # one line at a time, as fingers would

    def expect(self, pattern: str, timeout: float = 20.0) -> str:
        """Wait until `pattern` (a regex) shows after the last match; the text up to and including it."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.seen[self.mark:])):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {pattern!r}; the screen ends with:\n{self.seen[-3000:]}"
            # poll, not select: select() refuses descriptors above 1023, which a long test run can reach
            watch = select.poll()
            watch.register(self.fd, select.POLLIN | select.POLLHUP)
            if watch.poll(min(left, 0.5) * 1000):
                try:
                    chunk = self.decoder.decode(os.read(self.fd, 65536))
                except OSError:  # the other side closed
                    chunk = ""
                self.seen += re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", chunk)
        start, self.mark = self.mark, self.mark + found.end()
        return self.seen[start:self.mark]


def descendants(root: int) -> set[int]:
    """Every process below `root`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(pid: int, children: set[int]) -> None:
    """After a failure: let the sandbox stop what it started (SIGTERM), then make sure."""
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    for leftover in [p for p in children | {pid} if alive(p)]:
        os.kill(leftover, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
