"""The benchmark's processes: the local Open API, gunicorn serving the bot or the floor, and their memory.

Every process is started in its own session and stopped as a group, whatever happens in between.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
APP_ID, APP_SECRET = "cli_sandbox", "sandbox-secret"  # what the local Open API accepts by default
ENCRYPT_KEY = "bench encrypt key"
TOKEN = "bench-verification-token"
BOT_APP = "bot:create_app()"
FLOOR_APP = "bot.bench_floor:create_app()"
# The developer's own settings must not leak into the processes measured.
FOREIGN = re.compile(r"^(FEISHU_|ASSESSBOT_|DATABASE_URL$|WEB_CONCURRENCY$|GUNICORN_|PORT$|HOST$)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str | int | float) -> dict[str, str]:
    """This machine's environment without its assessbot and gunicorn settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def stop_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL the whole group if it has not gone within `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


class OpenAPI:
    """The local Open API (`python -m bot.sandbox.openapi`) in its own process, enforcing 20 PATCHes a second."""

    def __init__(self, workdir: Path, patch_rate_limit: int = 20):
        args = [sys.executable, "-m", "bot.sandbox.openapi", "--port", "0", "--quiet",
                "--patch-rate-limit", str(patch_rate_limit)]
        self.log = open(workdir / "openapi.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, env=clean_env())
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the local Open API did not start (see {workdir / 'openapi.log'})")
        self.url = line
        self.http = requests.Session()

    def calls(self, endpoint: str | None = None) -> list[dict]:
        params = {"endpoint": endpoint} if endpoint else None
        return self.http.get(f"{self.url}/_sandbox/calls", params=params, timeout=60).json()["calls"]

    def state(self) -> dict:
        return self.http.get(f"{self.url}/_sandbox/state", timeout=60).json()

    def fault(self, endpoint: str, kind: str, **params: object) -> None:
        answer = self.http.post(f"{self.url}/_sandbox/faults", json={"endpoint": endpoint, "kind": kind, **params},
                                timeout=10)
        answer.raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.url}/_sandbox/faults", timeout=10).raise_for_status()

    def reset(self) -> None:
        self.http.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()

    def __enter__(self) -> OpenAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Server:
    """gunicorn with the shipped config/gunicorn.conf.py, serving the bot or the floor on 127.0.0.1."""

    def __init__(self, app: str, workdir: Path, name: str, *, openapi_url: str = "http://127.0.0.1:9",
                 workers: int = 2, config: Path = GUNICORN_CONF, database: Path | None = None,
                 **env: str | int | float):
        """Start and wait for the first 200 on /healthz; a fresh database `name`.db unless `database` is given."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or workdir / f"{name}.db"
        if database is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        self.env = clean_env(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_VERIFICATION_TOKEN=TOKEN,
                             FEISHU_ENCRYPT_KEY=ENCRYPT_KEY, FEISHU_DOMAIN=openapi_url,
                             DATABASE_URL=f"sqlite:///{self.database}", HOST="127.0.0.1", PORT=self.port,
                             WEB_CONCURRENCY=workers, **env)
        self.workers = self.started_workers = workers
        self.log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        started = time.monotonic()
        self.proc = subprocess.Popen([gunicorn, app, "-c", str(config)], cwd=workdir, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.ready_seconds = self._ready(started, 120.0, workdir / f"{name}.log")
        except BaseException:
            self.stop()
            raise

    def _ready(self, started: float, timeout: float, log: Path) -> float:
        """Seconds from the start of gunicorn to its first 200 on /healthz."""
        session = requests.Session()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                tail = log.read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n" + "\n".join(tail))
            try:
                if session.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s (see {log})")

    def worker_pids(self, timeout: float = 30.0) -> list[int]:
        """The live workers, once all of them are up."""
        deadline = time.monotonic() + timeout
        while True:
            pids = children(self.proc.pid)
            if len(pids) >= self.workers or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)

    def resize(self, workers: int, timeout: float = 60.0) -> None:
        """Add or remove workers with gunicorn's TTIN and TTOU signals, one at a time (signals sent together merge)."""
        deadline = time.monotonic() + timeout
        while self.workers != workers:
            step = 1 if workers > self.workers else -1
            self.proc.send_signal(signal.SIGTTIN if step > 0 else signal.SIGTTOU)
            self.workers += step
            while len(children(self.proc.pid)) != self.workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not settle at {workers} workers within {timeout:.0f} s")
                time.sleep(0.02)

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


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
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=clean_env(), cwd=ROOT)
        times.append(time.monotonic() - started)
    return statistics.median(times)
