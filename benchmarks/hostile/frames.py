"""Long-connection frames: protobuf garbage, frames with junk headers (type, sum, seq, message_id), payloads split
into parts that never join, and event payloads of every wrong shape, through the bot's `_handle_data_frame`
(bot/feishu/longconn.py) after lark-oapi's own parse (`Frame.ParseFromString`, `FrameType`), as its client does.

What lark-oapi refuses before the bot sees it is counted as its outcome; an exception out of the bot's handler
escapes. A frame answered 200 may write (as a signed push may); nothing else may."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator

from benchmarks.hostile import junk, webhook
from benchmarks.hostile.lab import Lab
from benchmarks.hostile.run import Case

NAME = "frames"
CONTROL, DATA = 0, 1
HEADERS = ["type", "message_id", "trace_id", "sum", "seq", "biz_rt"]


def frame(payload: bytes, headers: list[tuple[str, str]], method: int = DATA, service: int = 1) -> bytes:
    """A frame as lark-oapi's protobuf serializes it."""
    from lark_oapi.ws.pb.pbbp2_pb2 import Frame

    found = Frame(SeqID=0, LogID=0, service=service, method=method, payload=payload)
    for key, value in headers:
        found.headers.add(key=key, value=value)
    return found.SerializeToString()


def _event(rng: random.Random, mutated: bool) -> bytes:
    payload = rng.choice(webhook._templates(rng))
    return junk.dumps(junk.mutate(rng, payload, rng.randint(1, 6)) if mutated else payload)


def _header_value(rng: random.Random) -> str:
    return rng.choice(["event", "card", "ping", "pong", "", "1", "2", "0", "-1", "999999999999", "10000000000",
                       "nan", "1e3", " 3", "٣", junk.text(rng, 12).encode("utf-8", "replace").decode("utf-8")])


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    kinds = ["garbage", "mutated frame", "junk headers", "wrong method", "event", "wrong types", "wrong types",
             "not json", "parts", "huge sum", "control"]
    for n in range(count):
        kind = kinds[n % len(kinds)] if n < len(kinds) else rng.choice(kinds)
        if n == count - 1 and count > 1:
            kind = "huge payload"
        data = _frame(rng, kind)
        yield Case(kind, data, len(data))


def _frame(rng: random.Random, kind: str) -> bytes:
    mid = f"m{rng.getrandbits(40):x}"
    plain = [("type", "event"), ("message_id", mid), ("trace_id", "t"), ("sum", "1"), ("seq", "0")]
    if kind == "garbage":
        return junk.garbage(rng, 500)
    if kind == "mutated frame":
        return junk.flip(rng, frame(_event(rng, False), plain), rng.randint(1, 4))
    if kind == "junk headers":
        headers = [(rng.choice(HEADERS), _header_value(rng)) for _ in range(rng.randint(0, 7))]
        return frame(_event(rng, False), headers)
    if kind == "wrong method":
        return frame(_event(rng, False), plain, method=rng.choice([2, 3, -1, 2**31 - 1]))
    if kind == "event":
        return frame(_event(rng, False), plain)
    if kind == "wrong types":
        return frame(_event(rng, True), plain)
    if kind == "not json":
        return frame(rng.choice([junk.garbage(rng), junk.nested(rng, 100_000).encode(), b"\xff\xfe", b""]), plain)
    if kind == "parts":  # one part of several, or a seq outside them
        total = rng.choice([2, 3, 50])
        seq = rng.choice([0, 1, total - 1, total, -1, 10**6])
        return frame(_event(rng, False)[:20], [("type", "event"), ("message_id", mid), ("sum", str(total)),
                                               ("seq", str(seq))])
    if kind == "huge sum":
        return frame(b"{}", [("type", "event"), ("message_id", mid), ("sum", rng.choice(
            ["100000000", "2147483647", "10" * 9]) if rng.random() < 0.9 else "99999999999999999999"),
                             ("seq", "0")])
    if kind == "control":
        return frame(junk.dumps(junk.value(rng)), [("type", rng.choice(["ping", "pong", "x", ""]))], method=CONTROL)
    return frame(b'{"schema": "2.0", "header": {}, "event": {"text": "' + b"x" * (4 * 1024 * 1024) + b'"}}', plain)


class _Lane:
    """The bot's long-connection client for one lab, its answers captured instead of written to a socket."""

    def __init__(self, lab: Lab) -> None:
        from bot.feishu.longconn import LongConnection, _Client
        from bot.flows.receive import handle_payload

        self.owner = LongConnection(lab.settings.feishu_app_id, lab.settings.feishu_app_secret,
                                    lab.settings.feishu_domain, lambda payload: handle_payload(lab.ctx, payload))
        self.client = _Client(self.owner)
        self.answers: list[bytes] = []

        async def written(data: bytes) -> None:
            self.answers.append(data)

        self.client._write_message = written  # type: ignore[method-assign]
        self.loop = asyncio.new_event_loop()


_LANES: dict[int, _Lane] = {}


def send(lab: Lab, case: Case) -> str:
    """lark-oapi's parse, then the bot's handler for a data frame (the SDK's own for a control frame)."""
    from lark_oapi.ws.enum import FrameType
    from lark_oapi.ws.pb.google.protobuf.message import DecodeError
    from lark_oapi.ws.pb.pbbp2_pb2 import Frame

    lane = _LANES.get(id(lab)) or _LANES.setdefault(id(lab), _Lane(lab))
    parsed = Frame()
    try:
        parsed.ParseFromString(case.data)
        kind = FrameType(parsed.method)
    except (DecodeError, ValueError) as exc:
        return f"refused by lark-oapi ({type(exc).__name__})"
    if kind == FrameType.CONTROL:
        try:
            lane.loop.run_until_complete(lane.client._handle_control_frame(parsed))
        except Exception as exc:  # lark-oapi's own handling, which its message loop catches and logs
            return f"lark-oapi control frame: {type(exc).__name__}"
        return "control frame"
    lane.answers.clear()
    lane.loop.run_until_complete(lane.client._handle_data_frame(parsed))
    if not lane.answers:
        return "no answer"
    answered = Frame()
    answered.ParseFromString(lane.answers[-1])
    return f"answered {json.loads(answered.payload).get('code')}"


def may_write(case: Case, outcome: str, tables: Counter[str]) -> bool:
    return outcome == "answered 200"


def good(lab: Lab) -> bool:
    """A valid event in one frame is answered 200."""
    rng = random.Random(1)
    data = frame(junk.dumps(webhook._templates(rng)[0]), [("type", "event"), ("message_id", "mgood"),
                                                         ("sum", "1"), ("seq", "0")])
    return send(lab, Case("good", data)) == "answered 200"


def extra(lab: Lab) -> dict[str, str]:
    """Stop the lab's lane (its pools and loop)."""
    lane = _LANES.pop(id(lab), None)
    if lane is not None:
        lane.owner._pool.shutdown(wait=True)
        lane.owner._after_pool.shutdown(wait=True)
        lane.loop.close()
    return {}
