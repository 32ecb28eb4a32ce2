"""How the sandbox Open API reads and answers, with no web framework: a request, an answer, Feishu's error shape,
log ids, dropped connections, the state file."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs

ERROR_MSGS = {1002001: "系统错误 / system error", 1020001: "系统错误 / system error", 2200: "internal error"}


@dataclass(frozen=True)
class Request:
    """One Open API request as any front door hands it over: header names in lower case, the query parsed."""

    method: str
    path: str
    query: Mapping[str, list[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of(cls, method: str, path: str, query_string: str = "", headers: Mapping[str, str] | None = None,
           body: bytes | None = None) -> Request:
        """Build one from the raw pieces of an HTTP request."""
        return cls(method.upper(), path, parse_qs(query_string, keep_blank_values=True),
                   {k.lower(): v for k, v in (headers or {}).items()}, body or b"")

    @property
    def args(self) -> dict[str, str]:
        """The query, first value of each name (as a web framework's `args.get` reads it)."""
        return {name: values[0] for name, values in self.query.items()}


@dataclass
class Answer:
    """One answer: status, headers and bytes, and Feishu's `code` in them when they are JSON; `drop` asks the
    front door to close the connection instead."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False
    code: int | None = None


@dataclass
class Call:
    """What one request is, and what happened to it, while it is handled."""

    request: Request
    endpoint: str
    log_id: str = field(default_factory=lambda: new_log_id())
    faults: list[str] = field(default_factory=list)
    applied: bool = False

    def body(self, invalid: Callable[[str], OpenAPIError] | None = None) -> dict:
        """The request's JSON object; a body that is not one is `invalid` (the IM APIs' field error by default)."""
        return json_body(self.request.body, invalid or field_invalid)


class OpenAPIError(Exception):
    """An answer in Feishu's error shape (or, with html, a gateway's HTML page)."""

    def __init__(self, status: int, code: int, msg: str | None = None, headers: dict[str, str] | None = None,
                 html: bool = False):
        msg = msg or ERROR_MSGS.get(code, "sandbox fault")
        super().__init__(f"{code}: {msg}")
        self.status, self.code, self.msg, self.headers, self.html = status, code, msg, headers or {}, html

    def response(self, log_id: str) -> Answer:
        """The HTTP answer, with the log id in the body as Feishu puts it."""
        if self.html:
            page = f"<html><head><title>{self.status}</title></head><body><h1>{self.status}</h1></body></html>"
            return Answer(self.status, page.encode(), dict(self.headers), "text/html; charset=utf-8")
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


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    """JSON as Feishu sends it: UTF-8, not ASCII-escaped."""
    code = payload.get("code") if isinstance(payload, dict) else None
    return Answer(status, json.dumps(payload, ensure_ascii=False).encode(), dict(headers or {}), code=code)


def json_body(raw: bytes, invalid: Callable[[str], OpenAPIError]) -> dict:
    """A request's JSON object, whatever its Content-Type; an empty body counts as {}."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise invalid("the body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid("the body is not a JSON object")
    return body


def dropped() -> Answer:
    """An answer that is never sent: the front door closes the connection instead."""
    return Answer(200, drop=True)


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
