"""What the crash runs share: the separate job workers they kill, waiting for jobs to settle, the summary table."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.sandbox import processes

ASSESSBOT = str(Path(sys.executable).with_name("assessbot"))


def start_worker(workdir: Path, env: dict[str, str], n: int) -> subprocess.Popen:
    """`assessbot worker` number n (from 0), logging to workdir/worker<n+1>.log, in a process group of its own."""
    return processes.start([ASSESSBOT, "worker"], workdir / f"worker{n + 1}.log", env=env, cwd=workdir, append=True)


def drain(database_url: str, timeout: float, busy: Callable[..., object], settle: float = 2.0) -> None:
    """Until `busy(store)` is false (jobs left to run) or `timeout` seconds; then `settle` more, so that a message
    sent twice would have landed."""
    from bot.store import Store

    store = Store(database_url)
    try:
        limit = time.monotonic() + timeout
        while time.monotonic() < limit and busy(store):
            time.sleep(1.0)
        time.sleep(settle)
    finally:
        store.dispose()


def summary_table(rows: Sequence[tuple[str, object]], problems: Sequence[str]) -> str:
    """The rows of a run's summary aligned, then its verdict: OK, or every invariant that failed."""
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name:<{width}}  {value}" for name, value in rows]
    verdict = "OK" if not problems else "FAILED: " + "; ".join(problems)
    return "\n".join(lines + [f"  {'result':<{width}}  {verdict}"])
