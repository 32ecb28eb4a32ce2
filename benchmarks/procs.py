"""The benchmark's processes: the bot or the floor under gunicorn with the benchmark's keys, and their memory.

Starting, waiting for and stopping them is bot.sandbox.processes; the local Open API is bot.sandbox.openapi.process.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bot.sandbox import processes
from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import BOT_APP, GUNICORN_CONF, Gunicorn

__all__ = ["BOT_APP", "FLOOR_APP", "GUNICORN_CONF", "OpenAPIProcess", "import_seconds", "memory", "server", "worker"]

ROOT = Path(__file__).resolve().parents[1]  # not installed: processes started elsewhere find it on PYTHONPATH
APP_ID, APP_SECRET = "cli_sandbox", "sandbox-secret"  # what the local Open API accepts by default
ENCRYPT_KEY = "bench encrypt key"
TOKEN = "bench-verification-token"
FLOOR_APP = "benchmarks.floor:create_app()"


def env(**extra: str | int | float) -> dict[str, str]:
    """A clean environment in which `benchmarks` can be imported from any working directory."""
    return processes.clean_env(pythonpath=[ROOT], **extra)


def server(app: str, workdir: Path, name: str, *, openapi_url: str = "http://127.0.0.1:9", workers: int = 2,
           config: Path = GUNICORN_CONF, database: Path | None = None, database_url: str | None = None,
           **extra: str | int | float) -> Gunicorn:
    """gunicorn serving the bot or the floor, ready; a fresh database `name`.db unless `database` (a file) or
    `database_url` (PostgreSQL, used as it is) is given."""
    if database is None and database_url is None:
        database = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = _settings(openapi_url, database_url or f"sqlite:///{database}", **extra)
    return Gunicorn(settings, workdir, name, app=app, workers=workers, config=config)


@contextlib.contextmanager
def worker(workdir: Path, name: str, *, openapi_url: str, database: Path) -> Iterator[subprocess.Popen]:
    """`assessbot worker` (the job runner on its own) on `database`, stopped on the way out."""
    command = [str(Path(sys.executable).with_name("assessbot")), "worker"]
    log = workdir / f"{name}.log"
    proc = processes.start(command, log, env=_settings(openapi_url, f"sqlite:///{database}"), cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while "running jobs" not in log.read_text(errors="replace"):  # its runner has started
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"assessbot worker did not start; see {log}")
            time.sleep(0.1)
        yield proc
    finally:
        processes.stop_group(proc)


def _settings(openapi_url: str, database_url: str, **extra: str | int | float) -> dict[str, str]:
    """The bot's environment with the benchmark's keys, pointed at `openapi_url` and `database_url`."""
    return processes.bot_env(openapi_url=openapi_url, database_url=database_url, app_id=APP_ID,
                             app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY, token=TOKEN, pythonpath=[ROOT], **extra)


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far, from /proc/<pid>/stat (0 for one gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state is field 3, utime 14, stime 15
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def memory(pid: int) -> tuple[int, int]:
    """(USS, PSS) of a process in bytes, from /proc/<pid>/smaps_rollup (USS = Private_Clean + Private_Dirty)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0]) * 1024
    return fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0), fields.get("Pss", 0)


def import_seconds(module: str = "lark_oapi", runs: int = 3) -> float:
    """The median wall time of `python -c "import <module>"` in a fresh interpreter."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=processes.clean_env(), cwd=ROOT)
        times.append(time.monotonic() - started)
    return statistics.median(times)
