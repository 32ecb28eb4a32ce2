"""How the sandbox Open API answers: Feishu's error shape, log ids, dropped connections, the state file."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Response, request

DROP = "bot.sandbox.drop"  # the WSGI environ key that marks a request whose connection is to be dropped
ERROR_MSGS = {1002001: "系统错误 / system error", 1020001: "系统错误 / system error", 2200: "internal error"}


class OpenAPIError(Exception):
    """An answer in Feishu's error shape (or, with html, a gateway's HTML page)."""

    def __init__(self, status: int, code: int, msg: str | None = None, headers: dict[str, str] | None = None,
                 html: bool = False):
        msg = msg or ERROR_MSGS.get(code, "sandbox fault")
        super().__init__(f"{code}: {msg}")
        self.status, self.code, self.msg, self.headers, self.html = status, code, msg, headers or {}, html

    def response(self, log_id: str) -> Response:
        """The HTTP answer, with the log id in the body as Feishu puts it."""
        if self.html:
            page = f"<html><head><title>{self.status}</title></head><body><h1>{self.status}</h1></body></html>"
            return Response(page, self.status, self.headers, mimetype="text/html")
        troubleshooter = ("排查建议查看(Troubleshooting suggestions): "
                          f"https://open.feishu.cn/search?from=openapi&log_id={log_id}&code={self.code}")
        return json_response({"code": self.code, "msg": self.msg,
                              "error": {"log_id": log_id, "troubleshooter": troubleshooter}},
                             self.status, self.headers)


def invalid_param(what: str) -> OpenAPIError:
    """Hire's parameter error."""
    return OpenAPIError(400, 1002002, f"参数错误 / invalid parameter: {what}")


def field_invalid(what: str) -> OpenAPIError:
    """The platform's field validation error (used by the IM APIs)."""
    return OpenAPIError(400, 99992402, f"field validation failed: {what}")


def rate_limited(status: int, limit: int, reset: float) -> OpenAPIError:
    """https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control"""
    return OpenAPIError(status, 99991400, "request trigger frequency limit",
                        {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": str(reset)})


def new_log_id() -> str:
    """A log id shaped like Feishu's: the time, then random hex."""
    return datetime.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as Feishu sends it: UTF-8, not ASCII-escaped."""
    return Response(json.dumps(payload, ensure_ascii=False), status, headers,
                    content_type="application/json; charset=utf-8")


def json_body(invalid: Callable[[str], OpenAPIError]) -> dict:
    """The request's JSON object, whatever its Content-Type; an empty body counts as {}."""
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise invalid("the body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid("the body is not a JSON object")
    return body


def dropped() -> Response:
    """Mark this request so that Droppable closes its connection instead of answering."""
    request.environ[DROP] = True
    return Response(b"", 200)


class Droppable:
    """WSGI middleware: when a request was marked to drop, close its socket instead of answering."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self.app(environ, start_response)
        if not environ.get(DROP):
            return answer
        if hasattr(answer, "close"):
            answer.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # werkzeug takes a ConnectionError for "the client went away": it writes nothing and goes on serving
        raise ConnectionAbortedError("the sandbox dropped this connection on purpose")


class StateWriter:
    """Writes the state file shortly after changes, coalescing bursts so a busy sandbox stays fast."""

    def __init__(self, path: str, snapshot: Callable[[], str], delay: float = 0.1):
        self.path, self.snapshot, self.delay = path, snapshot, delay
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sandbox-state-writer", daemon=True)
        self._thread.start()
        self.dirty()

    def dirty(self) -> None:
        """Something changed: write soon."""
        self._wake.set()

    def close(self) -> None:
        """Stop, after one last write."""
        if not self._closing:
            self._closing = True
            self._wake.set()
            self._thread.join()
            self._write()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait()
            time.sleep(self.delay)
            self._wake.clear()
            self._write()

    def _write(self) -> None:
        temporary = f"{self.path}.tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(self.snapshot())
        os.replace(temporary, self.path)  # readers never see half a file
