"""Feishu's long connection: events and card callbacks over lark-oapi's WebSocket client, in a thread of its own.

lark-oapi's `ws.Client` schedules every task on the module-level `lark_oapi.ws.client.loop` (read at call time)
and its `start()` blocks on that loop forever (upstream issues #119, #133). So the client runs in one thread,
on a fresh loop that the module global points at while it runs, and `stop()` ends it by cancelling that loop's
tasks from outside. One long connection per process: the global admits no second one.

Three methods of the client are extended, each calling the SDK's own first:
- `_connect` and `_reconnect` (plus the public `on_reconnecting` hook) report the connection's state;
- `_handle_data_frame` runs the handler in a worker thread instead of on the loop, so one callback waiting for
  its write does not hold up the others' 3 s, keeps the payload a plain dict (the SDK's dispatcher would rebuild
  it as typed models that drop unknown fields), and runs `after` once the answer frame has been written.
Doc: https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests
from lark_oapi.core.enum import LogLevel
from lark_oapi.core.json import JSON
from lark_oapi.event.dispatcher_handler import EventDispatcherHandler
from lark_oapi.ws import client as ws_client
from lark_oapi.ws.const import GEN_ENDPOINT_URI, HEADER_BIZ_RT, HEADER_MESSAGE_ID, HEADER_SEQ, HEADER_SUM, HEADER_TYPE
from lark_oapi.ws.enum import MessageType
from lark_oapi.ws.model import Response
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

from bot.answer import Answer
from bot.feishu.security import Rejected, json_object

log = logging.getLogger("assessbot.longconn")

# Callbacks are answered with the handler's body (as the SDK's `_callback_processor_map`); events with the code only.
CALLBACKS = frozenset({"card.action.trigger", "url.preview.get"})
_ONE_PER_PROCESS = threading.Lock()
MAX_PARTS = 100  # frames one message may come in (Feishu splits only large ones; the SDK trusts any number)
_QUERY = re.compile(r"\?[^\s'\"]*")  # a connection URL's query carries its ticket


Handler = Callable[[dict], Answer]  # the bot's answer (bot/answer.py), as for a webhook push


@dataclass(frozen=True)
class State:
    """connecting, connected, reconnecting or stopped; since when (epoch seconds); the last error seen."""

    name: str
    since: float
    error: str | None = None

    def as_dict(self) -> dict:
        return {"state": self.name, "since": round(self.since, 3), "last_error": self.error}


class LongConnection:
    """One app's long connection: payloads in as dicts, answers back, the state kept for /readyz."""

    def __init__(self, app_id: str, app_secret: str, domain: str, handle: Handler, *, threads: int = 8,
                 clock: Callable[[], float] = time.time):
        self.app_id, self._secret, self.domain, self._handle = app_id, app_secret, domain, handle
        self._clock = clock
        self._state = State("stopped", clock())
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, "longconn-handle")
        self._after_pool = ThreadPoolExecutor(4, "longconn-after")
        self._afters: set[Future] = set()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: _Client | None = None
        self._thread: threading.Thread | None = None
        self._inflight = 0  # frames being answered; touched on the loop only

    @property
    def state(self) -> State:
        return self._state

    def start(self) -> None:
        """Open the connection in a background thread; returns at once (watch `state`)."""
        if self._thread is not None:
            raise RuntimeError("a LongConnection starts once; make a new one")
        if not _ONE_PER_PROCESS.acquire(blocking=False):
            raise RuntimeError("a long connection is already running in this process")
        self._set("connecting")
        self._thread = threading.Thread(target=self._run, name="longconn", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Answer what is in flight (briefly), close, and end every thread; True when all ended within `timeout`."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(self._drain, min(timeout / 2, 2.0))
        if self._thread is not None:
            self._thread.join(max(deadline - time.monotonic(), 0))
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._after_pool.shutdown(wait=False)
        _, running = wait(list(self._afters), timeout=max(deadline - time.monotonic(), 0))
        ended = not (self._thread and self._thread.is_alive()) and not running
        if not ended:
            log.warning("long connection did not stop in time", extra={"timeout": timeout})
        return ended

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the connection has ended (stopped, refused, or given up reconnecting); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not (self._thread and self._thread.is_alive())

    # -- the thread -----------------------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # the client's message cache schedules its clean-up on the current loop
        previous, ws_client.loop = ws_client.loop, loop
        self._loop = loop
        error: BaseException | None = None
        try:
            if not self._stopping.is_set():
                self._client = _Client(self)
                self._client.start()  # returns only by cancellation or an error it does not retry
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            error = exc
        finally:
            self._wind_down(loop)
            ws_client.loop = previous
            asyncio.set_event_loop(None)
            self._set("stopped", error)
            _ONE_PER_PROCESS.release()

    def _wind_down(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel what is left, close the socket with a close frame, close the loop."""
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        if self._client is not None and self._client._conn is not None:
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.wait_for(self._client._disconnect(), 2.0))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def _drain(self, grace: float) -> None:
        """On the loop: wait up to `grace` for answers in flight, then cancel everything (ending `start()`)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + grace

        async def drain() -> None:
            while self._inflight and loop.time() < end:
                await asyncio.sleep(0.02)
            self._halt()

        loop.create_task(drain())

    def _halt(self) -> None:
        """On the loop: cancel every other task, so `start()` returns and the thread ends."""
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    # -- called by the client -------------------------------------------------------------------------------------

    def _answer(self, raw: bytes) -> tuple[Response, Callable[[], None] | None]:
        """In a worker thread: the handler's answer as the SDK's response frame payload, and its `after`."""
        payload: dict = {}
        try:
            payload = json_object(raw)
        except Rejected as exc:  # as a webhook push that is not a JSON object: malformed, a re-push is no better
            log.warning("long connection push malformed", extra={"reason": exc.reason})
            return Response(code=400), None
        try:
            answer = self._handle(payload)
        except Exception:
            log.exception("long connection handler failed", extra=_ids(payload))
            return Response(code=500), None
        if answer.status >= 500:  # not stored: leave it unacknowledged, so Feishu pushes it again
            log.warning("long connection push not acknowledged", extra={**_ids(payload), "code": answer.status})
            return Response(code=answer.status), None
        response = Response(code=200)
        if _ids(payload).get("event_type") in CALLBACKS:
            response.data = base64.b64encode(json.dumps(dict(answer.body), ensure_ascii=False).encode())
        return response, answer.after

    def _written(self, after: Callable[[], None]) -> None:
        """The answer is on the wire: run `after` in its own pool, never on the loop."""
        try:
            future = self._after_pool.submit(_run_after, after)
        except RuntimeError:  # stopping: the pool takes no more work
            return
        self._afters.add(future)
        future.add_done_callback(self._afters.discard)

    def _set(self, name: str, error: BaseException | str | None = None) -> None:
        """Record a state; log one line when its name changes (a new error alone is only recorded)."""
        with self._lock:
            old = self._state
            text = _clean(error) if error is not None else old.error
            changed = name != old.name
            self._state = State(name, self._clock() if changed else old.since, text)
        if changed:
            level = logging.WARNING if name == "reconnecting" or (name == "stopped" and error) else logging.INFO
            log.log(level, f"long connection {name}", extra={"state": name, "error": text if error else None})


def probe(app_id: str, app_secret: str, domain: str, timeout: float = 10.0) -> str | None:
    """None when Feishu would hand this app a long connection, else why not (for `assessbot doctor`).

    Only the endpoint is asked: an opened connection could be given one of the running bot's events.
    """
    try:
        response = requests.post(domain.rstrip("/") + GEN_ENDPOINT_URI, json={"AppID": app_id, "AppSecret": app_secret},
                                 headers={"locale": "zh"}, timeout=timeout)
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        return _clean(exc)
    if response.status_code != 200 or not isinstance(answer, dict):
        return f"HTTP {response.status_code} from {GEN_ENDPOINT_URI}"
    if answer.get("code") != 0:
        return f"{answer.get('code')}: {answer.get('msg')}"
    url = (answer.get("data") or {}).get("URL") or ""
    return None if url.startswith(("ws://", "wss://")) else "the endpoint returned no connection URL"


class _Client(ws_client.Client):
    """lark-oapi's ws client, reporting to a LongConnection and answering through it."""

    def __init__(self, owner: LongConnection):
        # WARNING: at INFO the SDK logs the connection URL, ticket included.
        super().__init__(owner.app_id, owner._secret, log_level=LogLevel.WARNING, domain=owner.domain,
                         event_handler=EventDispatcherHandler.builder("", "").build())
        self._owner = owner
        self._latest = None  # the last websocket opened, to say why it closed
        self.on_reconnecting = self._reconnecting

    async def _connect(self) -> None:
        try:
            await super()._connect()
        except Exception as exc:
            self._owner._set(self._owner.state.name, exc)
            raise
        self._latest = self._conn
        self._owner._set("connected")

    async def _reconnect(self) -> None:
        try:
            await super()._reconnect()
        except Exception as exc:  # the server's ReconnectCount ran out, or it refused us for good
            self._owner._set("reconnecting", exc)
            self._owner._halt()  # else the SDK would idle forever with no connection
            raise

    def _reconnecting(self) -> None:
        code = getattr(self._latest, "close_code", None)
        self._owner._set("reconnecting", f"connection lost (close code {code})" if self._latest else None)

    async def _handle_data_frame(self, frame: Frame) -> None:
        if not frame.IsInitialized():  # a required field missing: the answer could not be serialized
            log.warning("long connection frame dropped: required fields missing")
            return
        headers = {h.key: h.value for h in frame.headers}
        if headers.get(HEADER_TYPE) != MessageType.EVENT.value:
            return  # as the SDK: only event frames are answered (legacy card frames are not)
        payload: bytes | None = frame.payload
        parts = _parts(headers)
        if parts is None:
            log.warning("long connection frame dropped: its parts do not add up",
                        extra={"sum": headers.get(HEADER_SUM, "")[:20], "seq": headers.get(HEADER_SEQ, "")[:20]})
            return
        if parts[0] > 1:  # one message in several frames
            payload = self._combine(headers[HEADER_MESSAGE_ID], parts[0], parts[1], frame.payload)
            if payload is None:
                return
        self._owner._inflight += 1
        try:
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            response, after = await loop.run_in_executor(self._owner._pool, self._owner._answer, payload)
            frame.headers.add(key=HEADER_BIZ_RT, value=str(int((time.monotonic() - started) * 1000)))
            frame.payload = JSON.marshal(response).encode()
            await self._write_message(frame.SerializeToString())
        finally:
            self._owner._inflight -= 1
        if after is not None:
            self._owner._written(after)


def _parts(headers: dict[str, str]) -> tuple[int, int] | None:
    """A data frame's (sum, seq): how many frames its message came in and which this is; None when they do not
    make sense. The SDK allocates a list of `sum` slots for the message, so a frame saying 2,147,483,647 asked for
    16 GB."""
    try:
        total, seq = int(headers.get(HEADER_SUM) or 1), int(headers.get(HEADER_SEQ) or 0)
    except ValueError:
        return None
    if not (1 <= total <= MAX_PARTS and 0 <= seq < total) or (total > 1 and not headers.get(HEADER_MESSAGE_ID)):
        return None
    return total, seq


def _run_after(after: Callable[[], None]) -> None:
    try:
        after()
    except Exception:
        log.exception("long connection: work after the answer failed")


def _ids(payload: object) -> dict:
    header = payload.get("header") if isinstance(payload, dict) else None
    if not isinstance(header, dict):
        return {}
    return {key: value if isinstance(value, str) else None
            for key, value in (("event_type", header.get("event_type")), ("event_id", header.get("event_id")))}


def _clean(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return _QUERY.sub("?…", text)[:300]
