"""The sandbox Open API as a child process (`python -m bot.sandbox.openapi`), and a client of its admin endpoints."""

from __future__ import annotations

import sys
from pathlib import Path

import requests

from bot.sandbox import processes


class OpenAPIProcess:
    """The local Open API in its own process group, on a free port; a context manager that stops it."""

    def __init__(self, workdir: Path, patch_rate_limit: int | None = None, *, name: str = "openapi",
                 timeout: float = 20.0, longconn: bool = False):
        args = [sys.executable, "-m", "bot.sandbox.openapi", "--port", "0", "--quiet"]
        if patch_rate_limit:
            args += ["--patch-rate-limit", str(patch_rate_limit)]
        if longconn:
            args += ["--longconn"]
        self.log_path = workdir / f"{name}.log"
        self.proc = processes.start(args, self.log_path, env=processes.clean_env(), cwd=workdir, pipe_stdout=True)
        # the gateway imports lark-oapi (its protobuf frames): seconds, more on a busy machine
        line = processes.first_line(self.proc, timeout * 3 if longconn else timeout)
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the local Open API did not start: {line!r} (see {self.log_path})")
        self.url = line
        self.http = requests.Session()

    def get(self, path: str, **params: str) -> dict:
        """GET /_sandbox/<path>."""
        response = self.http.get(f"{self.url}/_sandbox/{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def calls(self, endpoint: str | None = None) -> list[dict]:
        """Every Open API request it answered, oldest first, optionally of one endpoint class."""
        return self.get("calls", **({"endpoint": endpoint} if endpoint else {}))["calls"]

    def state(self) -> dict:
        """The assessments and how many PATCHes the enforced rate limit refused."""
        return self.get("state")

    def assessments(self) -> dict[str, dict]:
        return self.state()["assessments"]

    def throttled(self) -> int:
        """PATCHes it refused for going over its enforced rate."""
        return self.state()["throttled"]

    def messages(self) -> list[dict]:
        return self.get("messages")["messages"]

    def fault(self, endpoint: str, kind: str, **params: object) -> None:
        """Switch a fault on (README.md: Faults)."""
        response = self.http.post(f"{self.url}/_sandbox/faults", json={"endpoint": endpoint, "kind": kind, **params},
                                  timeout=30)
        response.raise_for_status()

    def longconn(self) -> dict:
        """The gateway: whether it is on, and how many connections it has (and has accepted in all)."""
        return self.get("longconn")

    def push(self, payload: dict, timeout: float = 10.0, parts: int = 1) -> dict:
        """Push an event or callback over the bot's long connection (in `parts` frames); the bot's answer
        (RuntimeError if none)."""
        response = self.http.post(f"{self.url}/_sandbox/longconn", timeout=timeout + 5,
                                  json={"payload": payload, "timeout": timeout, "parts": parts})
        if response.status_code != 200:
            raise RuntimeError(f"push over the long connection failed: {response.text[:300]}")
        return response.json()["answer"]

    def longconn_fault(self, kind: str, **params: object) -> dict:
        """Arm a fault of the long-connection gateway (README.md: the long connection's faults); the armed faults."""
        response = self.http.post(f"{self.url}/_sandbox/longconn/faults", json={"kind": kind, **params}, timeout=30)
        response.raise_for_status()
        return response.json()

    def record(self, message_id: str, chat_id: str, sender: str, text: str) -> None:
        """Tell the Open API about a message a user sent, so the bot's reply lands in its chat."""
        self.http.post(f"{self.url}/_sandbox/messages", json={"message_id": message_id, "chat_id": chat_id,
                                                              "sender": sender, "text": text},
                       timeout=10).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.url}/_sandbox/faults", timeout=10).raise_for_status()

    def reset(self) -> None:
        """Back to the initial state."""
        self.http.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        processes.stop_group(self.proc, grace=5.0)

    def __enter__(self) -> OpenAPIProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
