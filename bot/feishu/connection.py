"""How lark-oapi reaches Feishu from this process: its tenant-token cache, which can be dropped once per rejection,
and its HTTP calls, through one kept-alive Session per thread (with a byte cap for downloads)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from lark_oapi.core.cache import LocalCache
from lark_oapi.core.http import transport
from lark_oapi.core.token.manager import TokenManager

from bot.feishu.errors import TooLarge


class _DroppableCache(LocalCache):
    """The SDK's process-wide token cache, with a way to forget a token Feishu rejected."""

    def drop(self) -> None:
        self.cache.clear()


class TokenCache:
    """The process's cached tenant token, dropped once per rejection however many threads saw it rejected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._cache = _DroppableCache()

    def install(self) -> None:
        """Make this the cache lark-oapi keeps its tenant tokens in (idempotent)."""
        TokenManager.cache = self._cache

    def forget(self) -> None:
        """Forget every cached token (a process that talks to another Feishu, as tests and the set-up check do)."""
        with self._lock:
            self._cache.drop()
            self._generation += 1

    def generation(self) -> int:
        """Incremented each time the cached token is dropped."""
        return self._generation

    def drop(self, seen_generation: int) -> bool:
        """Forget the cached token, unless another thread already did since `seen_generation`."""
        with self._lock:
            if seen_generation != self._generation:
                return False
            self._cache.drop()
            self._generation += 1
            return True


TOKENS = TokenCache()


class KeepAlive:
    """Stands in for `requests` inside lark-oapi's transport: the same `request()`, through one Session per thread.

    The SDK calls `requests.request(...)`, which builds a Session and opens a new connection for every call;
    one Session per thread (and per process: a forked worker never reuses its parent's sockets) keeps the
    connection to Feishu open between calls. Everything else the transport reads from `requests` is passed
    through, and the `responses` library still intercepts the calls (it patches the adapter all Sessions use).
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def session(self) -> requests.Session:
        """This thread's Session."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            held = self._local.held = (os.getpid(), _Session())
        return held[1]

    def request(self, method: str, url: str, **kwargs: object) -> requests.Response:
        cap = getattr(self._local, "cap", None)
        if cap is None:
            return self.session().request(method, url, **kwargs)  # type: ignore[arg-type]
        return _bounded(self.session().request(method, url, stream=True, **kwargs), cap)  # type: ignore[arg-type]

    @contextmanager
    def capped(self, limit: int) -> Iterator[None]:
        """Within the block, this thread's calls read at most `limit` bytes of an answer (else TooLarge): the SDK
        buffers a downloaded file whole, so the cap must act while it is read."""
        self._local.cap = limit
        try:
            yield
        finally:
            self._local.cap = None

    def __getattr__(self, name: str) -> object:
        return getattr(requests, name)


def _bounded(response: requests.Response, cap: int) -> requests.Response:
    """A streamed answer read into memory, refused (TooLarge) as soon as it is longer than `cap` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        response.close()
        raise TooLarge(cap)
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > cap:
            response.close()
            raise TooLarge(cap)
    response._content = bytes(body)  # what `response.content` gives the SDK
    response._content_consumed = True
    return response


class _Session(requests.Session):
    """A Session that reads the environment's proxy and CA settings once per host rather than on every call.

    `requests` looks them up (every *_proxy variable, no_proxy, the CA bundle variables) for each request: a tenth
    of a job's CPU time. A process's environment does not change while it runs, so the answer is kept.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def,override]
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        if key not in self._settings:
            self._settings[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        kept = self._settings[key]
        return {**kept, "proxies": dict(kept["proxies"])}


def keep_connections_alive() -> KeepAlive:
    """Route every lark-oapi call in this process through per-thread keep-alive Sessions (idempotent)."""
    if not isinstance(transport.requests, KeepAlive):
        transport.requests = KeepAlive()  # type: ignore[assignment]
    return transport.requests  # type: ignore[return-value]
