"""The long connection's data frames as they arrive, garbled: the bot's frame handler answers what it can and drops
what does not add up, without raising and without allocating what a frame's header asks for."""

from __future__ import annotations

import asyncio
import json
import tracemalloc

import pytest
from lark_oapi.ws.pb.pbbp2_pb2 import Frame

from bot.answer import Answer
from bot.feishu.longconn import LongConnection, _Client

# lark-oapi's client starts its cache's clearing coroutine at construction, outside any loop
pytestmark = pytest.mark.filterwarnings("ignore:coroutine 'ExpiringCache._start_clear_cron':RuntimeWarning")
EVENT = {"schema": "2.0", "header": {"event_id": "e1", "event_type": "im.message.receive_v1"}, "event": {}}


class Lane:
    """The bot's client without a socket: what the handler was given and what was written back."""

    def __init__(self) -> None:
        self.handled: list[dict] = []
        self.owner = LongConnection("cli_x", "secret", "http://127.0.0.1:9", self._handle)
        self.client = _Client(self.owner)
        self.written: list[dict] = []

        async def write(data: bytes) -> None:
            answer = Frame()
            answer.ParseFromString(data)
            self.written.append(json.loads(answer.payload))

        self.client._write_message = write  # type: ignore[method-assign]

    def _handle(self, payload: dict) -> Answer:
        self.handled.append(payload)
        return Answer(200, {})

    def send(self, payload: bytes, headers: dict[str, str], **fields: int) -> None:
        frame = Frame(**({"SeqID": 0, "LogID": 0, "service": 1, "method": 1} | fields), payload=payload)
        for key, value in headers.items():
            frame.headers.add(key=key, value=value)
        asyncio.run(self.client._handle_data_frame(frame))

    def close(self) -> None:
        self.owner._pool.shutdown(wait=True)
        self.owner._after_pool.shutdown(wait=True)


@pytest.fixture
def lane():
    found = Lane()
    yield found
    found.close()


@pytest.mark.parametrize("total", ["2147483647", "100000000", "101"])
def test_a_frame_claiming_a_message_of_millions_of_parts_is_dropped_without_allocating_them(lane, total):
    tracemalloc.start()
    try:
        lane.send(b"{}", {"type": "event", "message_id": "m1", "sum": total, "seq": "0"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # the SDK's join allocated sum slots: 16 GB for the first
    assert (lane.handled, lane.written) == ([], [])


@pytest.mark.parametrize("headers", [
    {"sum": "2", "seq": "2", "message_id": "m"}, {"sum": "2", "seq": "-1", "message_id": "m"},
    {"sum": "x", "seq": "0"}, {"sum": "0"}, {"sum": "2", "seq": "0"}], ids=["seq past", "seq negative", "sum text",
                                                                           "sum zero", "no message id"])
def test_parts_that_do_not_add_up_are_dropped(lane, headers):
    lane.send(json.dumps(EVENT).encode(), {"type": "event", **headers})
    assert (lane.handled, lane.written) == ([], [])


def test_a_message_in_two_good_parts_is_still_joined(lane):
    body = json.dumps(EVENT).encode()
    lane.send(body[:10], {"type": "event", "message_id": "m2", "sum": "2", "seq": "0"})
    lane.send(body[10:], {"type": "event", "message_id": "m2", "sum": "2", "seq": "1"})
    assert lane.handled == [EVENT] and lane.written[0]["code"] == 200


@pytest.mark.parametrize("payload", [b"[1]", b"not json", b'{"a": "\\ud800"}', b"[" * 100_000])
def test_a_payload_that_is_not_a_json_object_of_text_is_answered_400_unhandled(lane, payload):
    lane.send(payload, {"type": "event", "sum": "1", "seq": "0"})
    assert lane.handled == [] and lane.written[0]["code"] == 400


def test_an_event_type_of_the_wrong_type_is_answered_not_raised(lane):
    lane.send(json.dumps({"header": {"event_type": ["card.action.trigger"]}}).encode(), {"type": "event"})
    assert lane.written[0]["code"] == 200


def test_a_frame_missing_a_required_field_is_dropped_before_it_is_handled(lane):
    frame = Frame(SeqID=0, LogID=0, method=1, payload=json.dumps(EVENT).encode())  # no service
    frame.headers.add(key="type", value="event")
    asyncio.run(lane.client._handle_data_frame(frame))
    assert (lane.handled, lane.written) == ([], [])
