"""Real processes for reliability tests: the local Open API, gunicorn instances, job workers, signed pushes over HTTP.

Every process is started in its own session so that it and its children can be stopped as one group, and
every helper here is a context manager that stops what it started, whatever happens in between.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from bot.bench_procs import children, clean_env, free_port, stop_group
from bot.sandbox import push

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
APP_ID, APP_SECRET = "cli_sandbox", "sandbox-secret"  # what the local Open API accepts by default
ENCRYPT_KEY = "process test encrypt key"
TOKEN = "process-test-verification-token"
BOT_OPEN_ID = "ou_bot0000000000000000000000000000"


def bot_env(openapi_url: str, database_url: str, **extra: str | int) -> dict[str, str]:
    """The environment of a bot process: settings pointing at the local Open API and the given database."""
    env = clean_env()
    env.update(FEISHU_APP_ID=APP_ID, FEISHU_APP_SECRET=APP_SECRET, FEISHU_VERIFICATION_TOKEN=TOKEN,
               FEISHU_ENCRYPT_KEY=ENCRYPT_KEY, FEISHU_DOMAIN=openapi_url, FEISHU_BOT_OPEN_ID=BOT_OPEN_ID,
               DATABASE_URL=database_url, ASSESSBOT_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "a condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(interval)


class OpenAPI:
    """The local Feishu Open API (`python -m bot.sandbox.openapi`) in a subprocess, and its admin endpoints."""

    def __init__(self, workdir: Path, patch_rate_limit: int | None = None):
        args = [PYTHON, "-m", "bot.sandbox.openapi", "--port", "0", "--quiet"]
        if patch_rate_limit:
            args += ["--patch-rate-limit", str(patch_rate_limit)]
        self.log = open(workdir / "openapi.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, env=clean_env())
        try:
            self.url = self._first_line(20.0)
        except BaseException:
            self.stop()
            raise
        self.http = requests.Session()

    def _first_line(self, timeout: float) -> str:
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(b"http://"):
            raise RuntimeError(f"the local Open API did not start: {line!r}")
        return line[0].decode().strip()

    def get(self, path: str, **params: str) -> dict:
        response = self.http.get(f"{self.url}/_sandbox/{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def calls(self, endpoint: str | None = None) -> list[dict]:
        """Every Open API request the fake answered, oldest first."""
        return self.get("calls", **({"endpoint": endpoint} if endpoint else {}))["calls"]

    def assessments(self) -> dict[str, dict]:
        return self.get("state")["assessments"]

    def throttled(self) -> int:
        """PATCHes the fake refused for going over its enforced rate."""
        return self.get("state")["throttled"]

    def messages(self) -> list[dict]:
        return self.get("messages")["messages"]

    def fault(self, endpoint: str, kind: str, **params: object) -> None:
        response = self.http.post(f"{self.url}/_sandbox/faults", json={"endpoint": endpoint, "kind": kind, **params},
                                  timeout=30)
        response.raise_for_status()

    def stop(self) -> None:
        stop_group(self.proc, grace=5.0)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()

    def __enter__(self) -> OpenAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Gunicorn:
    """One app instance: `gunicorn 'bot:create_app()' -c config/gunicorn.conf.py` with the given environment."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "web", workers: int = 2):
        self.name, self.workers = name, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port), "WEB_CONCURRENCY": str(workers)}
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([GUNICORN, "bot:create_app()", "-c", str(ROOT / "config" / "gunicorn.conf.py")],
                                     cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            self.wait_ready(90.0)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        """Until the master runs all its workers and one of them answers /healthz."""
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited ({self.proc.returncode}); see {self.log_path}")
            if len(self.worker_pids()) < self.workers:
                return False
            try:
                return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, 0.1, f"gunicorn {self.name} to serve")

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)

    def kill_worker(self, pid: int) -> bool:
        """SIGKILL one worker (gunicorn starts another); False if it was already gone."""
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except ProcessLookupError:
            return False

    def readyz(self) -> dict:
        return requests.get(f"{self.url}/readyz", timeout=10).json()

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Worker:
    """`assessbot worker`: the job runner in a process of its own."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "worker"):
        self.log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([PYTHON, "-m", "bot.cli", "worker"], cwd=workdir, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- pushes ------------------------------------------------------------------------------------------------------

def message(text: str, *, message_id: str, event_id: str, sender: str) -> dict:
    """An `im.message.receive_v1` push of a p2p text message to the bot."""
    return push.message_event(text, token=TOKEN, sender=sender, chat_id="oc_" + sender[3:], message_id=message_id,
                              event_id=event_id, app_id=APP_ID)


def deliver(url: str, payload: dict, timeout: float = 10.0) -> tuple[int | None, float]:
    """One delivery as Feishu makes it (freshly encrypted and signed): the HTTP status (None: no answer) and seconds."""
    body, headers = push.sealed(payload, ENCRYPT_KEY)
    started = time.perf_counter()
    try:
        status: int | None = requests.post(f"{url}/feishu/events", data=body, headers=headers,
                                           timeout=timeout).status_code
    except requests.RequestException:
        status = None
    return status, time.perf_counter() - started


# -- databases ---------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server `server_url` points at, dropped afterwards.

    Without the right to create databases, `server_url`'s own database is emptied and used instead.
    """
    import psycopg

    from bot.store import _engine, metadata

    plain = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", server_url)
    parts = urlsplit(plain)
    name = f"assessbot_processes_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        engine = _engine(server_url)
        metadata.drop_all(engine)
        engine.dispose()
        yield server_url
        return
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def jobs_frozen(database_url: str) -> Iterator[None]:
    """Hold the jobs table so no process can commit to it: a job that has just PATCHed cannot record it."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the one write lock SQLite has
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    with psycopg.connect(re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", database_url)) as conn:
        # SHARE ROW EXCLUSIVE: reads go on, every INSERT and UPDATE of jobs waits
        conn.execute("LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of `times` inside any half-open interval of `window` seconds."""
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best

