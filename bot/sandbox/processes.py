"""Child processes for the sandbox, the benchmarks and the process tests, each in its own group, stopped as one.

Every process is started in a session of its own, so that it and its children (gunicorn's workers) are
stopped together and a Ctrl-C in the terminal reaches only the parent.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
BOT_APP = "bot:create_app()"
# The developer's own settings must not leak into the processes started.
FOREIGN = re.compile(r"^(FEISHU_|ASSESSBOT_|DATABASE_URL$|WEB_CONCURRENCY$|GUNICORN_|PORT$|HOST$)")

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(*, pythonpath: Iterable[Path] = (), **extra: str | int | float) -> dict[str, str]:
    """This machine's environment without its assessbot and gunicorn settings, plus `extra`.

    `pythonpath` puts directories first on PYTHONPATH (code that is not installed, such as the benchmarks,
    imported by a process started in another working directory).
    """
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    env.update({k: str(v) for k, v in extra.items()})
    paths = [str(p) for p in pythonpath]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    return env


def bot_env(*, openapi_url: str, database_url: str, app_id: str, app_secret: str, encrypt_key: str, token: str,
            pythonpath: Iterable[Path] = (), **extra: str | int | float) -> dict[str, str]:
    """A clean environment whose settings point the bot at an Open API (a local one) and a database."""
    return clean_env(pythonpath=pythonpath, FEISHU_APP_ID=app_id, FEISHU_APP_SECRET=app_secret,
                     FEISHU_ENCRYPT_KEY=encrypt_key, FEISHU_VERIFICATION_TOKEN=token, FEISHU_DOMAIN=openapi_url,
                     DATABASE_URL=database_url, **extra)


def start(command: list[str], log: Path, *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
          pipe_stdout: bool = False, append: bool = False) -> subprocess.Popen:
    """`command` in a session of its own, stderr (and stdout unless piped) to `log`."""
    with open(log, "ab" if append else "wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=dict(env) if env is not None else None,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if pipe_stdout else out,
                                stderr=out, start_new_session=True)


def first_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first line the process prints on its piped stdout, or "" if none comes within `timeout` seconds."""
    assert proc.stdout is not None
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return line[0].decode(errors="replace").strip() if line else ""


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.1, what: str = "a condition") -> T:
    """Poll `predicate` until it returns something truthy; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(interval)


def wait_answering(url: str, proc: subprocess.Popen, timeout: float, *, log: Path | None = None,
                   interval: float = 0.05) -> float:
    """Seconds until GET `url` answers 200; RuntimeError if the process exits first or time runs out."""
    started, session = time.monotonic(), requests.Session()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{_name(proc)} exited with status {proc.returncode}"
                               + (f"; see {log}\n{tail(log)}" if log else ""))
        try:
            if session.get(url, timeout=1).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{_name(proc)} did not answer {url} within {timeout:.0f} s"
                       + (f"; see {log}\n{tail(log)}" if log else ""))


def stop_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL the whole group if it has not gone within `grace` seconds; close a piped stdout."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the leader is gone; a worker may linger
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    if proc.stdout:
        proc.stdout.close()


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


def tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log, for an error message."""
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _name(proc: subprocess.Popen) -> str:
    return Path(str(proc.args[0] if isinstance(proc.args, list) else proc.args)).name


class Gunicorn:
    """gunicorn serving `app` on a free port of 127.0.0.1 with the shipped config (or `config`), in its own group.

    Ready once one worker answers /healthz and all of them run; `ready_seconds` is the time to the first 200.
    """

    def __init__(self, env: Mapping[str, str], workdir: Path, name: str = "web", *, app: str = BOT_APP,
                 workers: int = 2, config: Path = GUNICORN_CONF, timeout: float = 120.0):
        self.name, self.workers, self.started_workers = name, workers, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port), "WEB_CONCURRENCY": str(workers)}
        self.log_path = workdir / f"{name}.log"
        self.proc = start([GUNICORN, app, "-c", str(config)], self.log_path, env=self.env, cwd=workdir)
        try:
            self.ready_seconds = wait_answering(f"{self.url}/healthz", self.proc, timeout, log=self.log_path,
                                                interval=0.005)
            wait_until(lambda: len(self.worker_pids()) >= workers, timeout, 0.02, f"gunicorn {name}'s workers")
        except BaseException:
            self.stop()
            raise

    def worker_pids(self) -> list[int]:
        """The live workers."""
        return children(self.proc.pid)

    def kill_worker(self, pid: int) -> bool:
        """SIGKILL one worker (gunicorn starts another); False if it was already gone."""
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except ProcessLookupError:
            return False

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

    def readyz(self) -> dict:
        """The bot's /readyz answer."""
        return requests.get(f"{self.url}/readyz", timeout=10).json()

    def stop(self) -> None:
        stop_group(self.proc)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
