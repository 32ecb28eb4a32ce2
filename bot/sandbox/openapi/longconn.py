"""A local stand-in for Feishu's long-connection gateway: the endpoint, then protobuf frames over a WebSocket.

The client POSTs `{domain}/callback/ws/endpoint` with its AppID and AppSecret and gets a `ws://` URL (carrying
`device_id` and `service_id`) and its reconnect and ping settings; it then pings with control frames and answers
each data frame (type `event`) with the same frame whose payload is `{"code": 200, "data": "<base64 answer>"}`.
Frames are lark-oapi's own `lark_oapi.ws.pb.pbbp2_pb2.Frame`. Like Feishu ("cluster mode, no broadcast"), each
push goes to one random connection; one that closes before answering gets the push again on another.

Faults (`fault(kind, **params)`, over HTTP `POST /_sandbox/longconn/faults`) make the gateway misbehave as a network
and a busy Feishu can: cut a connection in the middle of a message in several frames, deliver a message twice
(the same frames, the same message_id) on its connection, refuse reconnects for some seconds, drop every connection.
Doc: https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

ENDPOINT_PATH = "/callback/ws/endpoint"
CONTROL, DATA = 0, 1
MAX_CONNECTIONS = 50  # per app, as Feishu allows
EXCEED_CONN_LIMIT = 1000040350  # lark_oapi.ws.const: the handshake refusal the client does not retry
# Feishu sends minutes; small values keep a local reconnect within a second.
FAST_CONFIG = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 30}
# kind -> its parameters with their defaults (README.md: the long connection's faults)
FAULTS: dict[str, dict[str, object]] = {
    "cut": {"count": 1, "after": 1},  # the next `count` messages in several frames: the connection cut after `after`
    "duplicate": {"count": 1},  # the next `count` messages sent twice, frame for frame, on their connection
    "refuse": {"seconds": 5.0, "how": "endpoint"},  # endpoint: answers "system busy"; handshake: refused, retryable
    "drop": {},  # every connection cut now
}


class PushFailed(Exception):
    """No connection answered the push in time, or the client answered with an error code."""


class LongConnServer:
    """The endpoint (over a small HTTP server, or mounted elsewhere through `endpoint`) and the frame server."""

    def __init__(self, *, app_id: str = "cli_sandbox", app_secret: str = "sandbox-secret", host: str = "127.0.0.1",
                 client_config: dict | None = None, max_connections: int = MAX_CONNECTIONS):
        self.app_id, self.app_secret, self.host = app_id, app_secret, host
        self.client_config = dict(client_config or FAST_CONFIG)
        self.max_connections = max_connections
        self.service_id = random.randint(10_000, 99_999)
        self.pings = 0
        self.busy = False  # while True the endpoint answers "system busy", which the client retries
        self.handshakes = 0
        self.opened: list[float] = []  # when each connection was accepted (epoch seconds)
        self.counts = {"cut": 0, "duplicated": 0, "refused": 0, "dropped": 0, "pushed_again": 0}
        self._armed = {"cut": 0, "duplicate": 0}
        self._cut_after = 1
        self._refusing: tuple[float, str] = (0.0, "")  # (until, on monotonic time; how)
        self._faults_lock = threading.Lock()
        self._devices: set[str] = set()
        self._open: dict[ServerConnection, dict[str, asyncio.Future[bytes]]] = {}
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox-ws", daemon=True)
        self._server: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self.ws_port = 0

    # -- life -----------------------------------------------------------------------------------------------------

    def start(self, *, http: bool = True) -> LongConnServer:
        """Start the frame server and, unless `http` is False, the endpoint on its own HTTP port."""
        self._thread.start()
        self._server = self._call(self._listen())
        self.ws_port = self._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if http:
            self._http = ThreadingHTTPServer((self.host, 0), _endpoint_handler(self))
            threading.Thread(target=self._http.serve_forever, args=(0.05,), name="sandbox-ws-endpoint",
                             daemon=True).start()
        return self

    def stop(self) -> None:
        """Close every connection and both servers, and end their threads."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._server is not None:
            self._server.close()
            self._call(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def domain(self) -> str:
        """The origin a client passes as its domain (the endpoint's HTTP server)."""
        assert self._http is not None, "started with http=False: the endpoint is mounted elsewhere"
        return f"http://{self.host}:{self._http.server_address[1]}"

    @property
    def connections(self) -> int:
        """How many clients are connected now."""
        return len(self._open)

    # -- the endpoint ---------------------------------------------------------------------------------------------

    def endpoint(self, body: object) -> tuple[int, dict]:
        """Answer POST /callback/ws/endpoint: a connection URL for this app, or why not."""
        if not isinstance(body, dict) or "AppID" not in body:
            return 400, {"code": 400, "msg": "AppID and AppSecret are required"}
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            # The SDK raises at once (no retry) for any code but 0, 1 and 1000040343.
            return 200, {"code": 403, "msg": "app_id or app_secret is invalid"}
        if self.busy or self._refused("endpoint"):
            return 200, {"code": 1, "msg": "system busy"}
        device = secrets.token_hex(8)
        self._devices.add(device)
        url = f"ws://{self.host}:{self.ws_port}/ws/v2?device_id={device}&service_id={self.service_id}"
        return 200, {"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": self.client_config}}

    # -- pushing --------------------------------------------------------------------------------------------------

    def push(self, payload: dict, timeout: float = 5.0, parts: int = 1) -> dict:
        """Send one event or callback (JSON, in `parts` frames) and return the client's decoded answer ({} if none)."""
        return self._call(self._push(json.dumps(payload, ensure_ascii=False).encode(), timeout, parts), timeout + 1)

    def drop_connections(self) -> int:
        """Cut every connection without a close handshake, as a network failure does; returns how many."""
        return self._call(self._drop())

    # -- faults ---------------------------------------------------------------------------------------------------

    def fault(self, kind: str, **params: object) -> dict:
        """Arm a fault (kinds and parameters in FAULTS; ValueError says what is wrong); the faults as `faults()`."""
        if kind not in FAULTS:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(FAULTS)}")
        unknown = sorted(set(params) - set(FAULTS[kind]))
        if unknown:
            raise ValueError(f"{kind} takes no parameter {', '.join(unknown)}"
                             + (f"; it takes {', '.join(FAULTS[kind])}" if FAULTS[kind] else ""))
        merged = {**FAULTS[kind], **params}
        bad = [name for name, value in merged.items() if not _FAULT_CHECKS[name](value)]
        if bad:
            raise ValueError(f"bad value for {', '.join(f'{name}={merged[name]!r}' for name in bad)}")
        with self._faults_lock:
            if kind in self._armed:
                self._armed[kind] += int(merged["count"])  # type: ignore[call-overload]
                if kind == "cut":
                    self._cut_after = int(merged["after"])  # type: ignore[call-overload]
            elif kind == "refuse":
                self._refusing = (time.monotonic() + float(merged["seconds"]), str(merged["how"]))  # type: ignore[arg-type]
        if kind == "drop":
            self.counts["dropped"] += self.drop_connections()
        return self.faults()

    def clear_faults(self) -> None:
        """Disarm every fault (the counts stay)."""
        with self._faults_lock:
            self._armed = dict.fromkeys(self._armed, 0)
            self._refusing = (0.0, "")

    def faults(self) -> dict:
        """The faults still armed, and how often each has struck."""
        with self._faults_lock:
            until, how = self._refusing
            left = max(until - time.monotonic(), 0.0)
            return {"armed": {**self._armed, "refuse": {"seconds": round(left, 3), "how": how} if left else None},
                    "counts": dict(self.counts)}

    def _take(self, kind: str) -> bool:
        with self._faults_lock:
            if self._armed[kind] <= 0:
                return False
            self._armed[kind] -= 1
            return True

    def _refused(self, how: str) -> bool:
        until, refusing = self._refusing
        if refusing != how or time.monotonic() >= until:
            return False
        self.counts["refused"] += 1
        return True

    async def _push(self, body: bytes, timeout: float, parts: int) -> dict:
        deadline = time.monotonic() + timeout
        message_id = f"msg_{next(self._ids)}_{secrets.token_hex(4)}"
        while time.monotonic() < deadline:
            # a connection just cut stays listed until its session has ended: never pick it
            live = [conn for conn in self._open if conn.state is State.OPEN]
            if not live:
                await asyncio.sleep(0.02)
                continue
            conn = random.choice(live)
            answer = self._loop.create_future()
            self._open[conn][message_id] = answer
            frames = _data_frames(body, message_id, self.service_id, parts)
            try:
                if len(frames) > 1 and self._take("cut"):
                    for frame in frames[:min(self._cut_after, len(frames) - 1)]:
                        await conn.send(frame)
                    self.counts["cut"] += 1
                    conn.transport.abort()  # the rest never leaves: the client holds part of a message
                else:
                    twice = self._take("duplicate")
                    self.counts["duplicated"] += twice
                    for frame in frames * (2 if twice else 1):
                        await conn.send(frame)
                raw = await asyncio.wait_for(answer, max(deadline - time.monotonic(), 0.01))
            except ConnectionClosed:
                self.counts["pushed_again"] += 1
                await asyncio.sleep(0)  # let the closed connection's session end before the next try
                continue  # not acknowledged: Feishu pushes it again
            except TimeoutError:
                break
            finally:
                self._open.get(conn, {}).pop(message_id, None)
            return _decode_answer(raw)
        raise PushFailed(f"no answer within {timeout} s")

    async def _listen(self) -> Server:
        return await serve(self._session, self.host, 0, process_request=self._admit, ping_interval=None)

    async def _drop(self) -> int:
        dropped = list(self._open)
        for conn in dropped:
            conn.transport.abort()
        return len(dropped)

    # -- connections ----------------------------------------------------------------------------------------------

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        query = parse_qs(urlsplit(request.path).query)
        device = (query.get("device_id") or [""])[0]
        if device not in self._devices or query.get("service_id") != [str(self.service_id)]:
            return _refuse(connection, 403, "invalid device_id or service_id")
        if len(self._open) >= self.max_connections:
            return _refuse(connection, 514, "too many connections", EXCEED_CONN_LIMIT)
        if self._refused("handshake"):
            return _refuse(connection, 500, "system busy")  # not 403: the client tries again
        self.handshakes += 1
        self.opened.append(time.time())
        return None

    async def _session(self, conn: ServerConnection) -> None:
        self._open[conn] = {}
        try:
            async for message in conn:
                frame = Frame()
                frame.ParseFromString(message)
                kind = _header(frame, "type")
                if frame.method == CONTROL and kind == "ping":
                    self.pings += 1
                    await conn.send(_control_frame("pong", self.service_id, json.dumps(self.client_config).encode()))
                elif frame.method == DATA:
                    waiting = self._open[conn].get(_header(frame, "message_id"))
                    if waiting is not None and not waiting.done():
                        waiting.set_result(frame.payload)
        except ConnectionClosed:
            pass
        finally:
            for waiting in self._open.pop(conn, {}).values():
                if not waiting.done():
                    waiting.set_exception(ConnectionClosed(None, None))

    def _call(self, coro, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


_FAULT_CHECKS = {
    "count": lambda v: type(v) is int and v >= 1, "after": lambda v: type(v) is int and v >= 1,
    "seconds": lambda v: type(v) in (int, float) and 0 <= v <= 3600, "how": lambda v: v in ("endpoint", "handshake"),
}


def _data_frames(body: bytes, message_id: str, service: int, parts: int) -> list[bytes]:
    """One event as `parts` data frames sharing a message_id (`sum` and `seq` tell the client how to join them)."""
    size = -(-len(body) // max(parts, 1))
    chunks = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    frames = []
    for seq, chunk in enumerate(chunks):
        frame = Frame(SeqID=seq, LogID=0, service=service, method=DATA, payload=chunk)
        for key, value in (("type", "event"), ("message_id", message_id), ("trace_id", secrets.token_hex(8)),
                           ("sum", str(len(chunks))), ("seq", str(seq))):
            frame.headers.add(key=key, value=value)
        frames.append(frame.SerializeToString())
    return frames


def _control_frame(kind: str, service: int, payload: bytes = b"") -> bytes:
    frame = Frame(SeqID=0, LogID=0, service=service, method=CONTROL, payload=payload)
    frame.headers.add(key="type", value=kind)
    return frame.SerializeToString()


def _decode_answer(raw: bytes) -> dict:
    """The client's `{"code", "data": base64(JSON)}` as the JSON it carries; an error code raises."""
    response = json.loads(raw)
    if response.get("code") != 200:
        raise PushFailed(f"client answered code {response.get('code')}")
    data = response.get("data")
    return json.loads(base64.b64decode(data)) if data else {}


def _header(frame: Frame, key: str) -> str | None:
    return next((h.value for h in frame.headers if h.key == key), None)


def _refuse(connection: ServerConnection, status: int, msg: str, auth_code: int | None = None) -> Response:
    """A refused handshake as the gateway sends it: the reason in `handshake-*` headers the client reads."""
    response = connection.respond(403 if status == 403 else 401, msg)
    response.headers["handshake-status"] = str(status)
    response.headers["handshake-msg"] = msg
    if auth_code is not None:
        response.headers["handshake-autherrcode"] = str(auth_code)
    return response


def _endpoint_handler(server: LongConnServer) -> type[BaseHTTPRequestHandler]:
    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                body = None
            status, answer = (server.endpoint(body) if urlsplit(self.path).path == ENDPOINT_PATH
                              else (404, {"code": 404, "msg": "not found"}))
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Endpoint
