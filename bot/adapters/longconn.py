"""Long-connection mode (FEISHU_EVENT_MODE=longconn): one process of the deployment holds the connection.

Every process with a job runner (each gunicorn worker, `assessbot worker`) runs an Elector. Each tries to take
a database lease every few seconds; the one that holds it opens the long connection and writes the connection's
state into the lease row, which /readyz in any process reads. Feishu gives each push to one of an app's
connections, and a deployment that opened one per process would run as many clients for nothing, so exactly one
is opened. A holder that cannot renew its lease closes the connection before the lease runs out; a holder that
dies loses the lease after LEASE_SECONDS and another process takes over.

Pushes enter `bot.flows.receive.handle_payload`, the webhook's path after authentication: the connection itself is
authenticated with the app's credentials, so no Encrypt Key or Verification Token is involved.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.answer import Answer
from bot.flows import receive

if TYPE_CHECKING:
    from bot.services import Context

log = logging.getLogger("assessbot.longconn")

LEASE = "feishu-longconn"
LEASE_SECONDS = 30.0
RENEW_SECONDS = 10.0


class Connection(Protocol):
    """What the elector needs of bot.feishu.longconn.LongConnection."""

    @property
    def state(self): ...  # type: ignore[no-untyped-def]
    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def handler(ctx: Context) -> Callable[[dict], Answer]:
    """A payload from the connection, answered as a webhook push would be.

    A 5xx (the database could not store it) leaves the push unacknowledged, so Feishu pushes it again; any
    other status is an answer (a 400 for a malformed payload would be refused again and again).
    """

    def handle(payload: dict) -> Answer:
        with ctx.in_flight.serving():
            return receive.handle_payload(ctx, payload)

    return handle


def connect(ctx: Context) -> Connection:
    """A new (not yet started) long connection for this app, handing pushes to the bot."""
    from bot.feishu.longconn import LongConnection

    settings = ctx.settings
    return LongConnection(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain, handler(ctx))


class Elector:
    """Holds the lease while this process runs the connection; takes it over when its holder has gone."""

    def __init__(self, ctx: Context, *, make: Callable[[], Connection] | None = None, ttl: float = LEASE_SECONDS,
                 renew: float = RENEW_SECONDS, tick: float = 0.5, clock: Callable[[], float] = time.time):
        self.ctx, self.ttl, self.renew, self.tick, self.clock = ctx, ttl, renew, tick, clock
        self._make = make or (lambda: connect(ctx))
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.conn: Connection | None = None
        self._until = 0.0  # our lease's expiry as last written
        self._renewed = float("-inf")
        self._reported: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Elector:
        self._thread = threading.Thread(target=self._loop, name="assessbot-longconn-elector", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection (answering what is in flight) and release the lease, within `timeout`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close(timeout, "stopping")

    @property
    def holding(self) -> bool:
        return self.conn is not None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the database may be away for a moment; the lease covers that
                log.exception("long connection election failed; trying again")
                if self.conn is not None and self.clock() >= self._until - self.renew:
                    self._close(5.0, "lease not renewed")
            self._stop.wait(self.tick)

    def step(self) -> None:
        """One turn: renew (or try to take) the lease when due or when the state changed; act on the answer."""
        now = self.clock()
        if self.conn is not None and self.conn.wait(0):  # ended on its own: refused, or gave up reconnecting
            self._close(0, "connection ended")
            self._renewed = now  # try again after a pause, not at once
            return
        state = self._state()
        changed = self.conn is not None and state.get("state") != self._reported
        if now - self._renewed < self.renew and not changed:
            return
        if not self.ctx.store.hold_lease(LEASE, self.holder, self.ttl, state):
            self._renewed = now
            if self.conn is not None:
                log.warning("long connection lease lost; closing the connection")
                self._close(5.0, "lease lost", release=False)
            return
        self._renewed, self._until, self._reported = now, now + self.ttl, state.get("state")
        if self.conn is None and not self._stop.is_set():
            log.info("long connection lease taken", extra={"holder": self.holder})
            self.conn = self._make()
            self.conn.start()
            self._reported = None  # write "connecting" at the next turn

    def _state(self) -> dict:
        if self.conn is None:
            return {"state": "connecting", "since": round(self.clock(), 3), "last_error": None}
        return self.conn.state.as_dict()

    def _close(self, timeout: float, why: str, *, release: bool = True) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.stop(timeout)
            state = {**conn.state.as_dict(), "reason": why}
        else:
            state = {"state": "stopped", "since": round(self.clock(), 3), "last_error": None, "reason": why}
        self._renewed, self._reported = float("-inf"), None
        if release and conn is not None:
            try:
                self.ctx.store.release_lease(LEASE, self.holder, state)
            except Exception:
                log.exception("could not release the long connection lease")


def status(ctx: Context) -> tuple[bool, dict]:
    """For /readyz: whether a live holder reports its connection open, and what the lease row says."""
    lease = ctx.store.lease(LEASE)
    now = ctx.clock()
    if lease is None or not lease.held(now):
        return False, {"mode": "longconn", "state": "no holder",
                       **({"last": lease.state} if lease is not None and lease.state else {})}
    return lease.state.get("state") == "connected", {
        "mode": "longconn", "holder": lease.holder, "expires_in": round(lease.expires_at - now, 3), **lease.state}
