"""The long connection, end to end in one process: lark-oapi's real ws client against the local gateway."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.answer import Answer
from bot.feishu.longconn import LongConnection, probe
from bot.sandbox.openapi.longconn import LongConnServer, PushFailed
from tests.support.ids import PAYLOADS
from tests.support.waiting import wait_until

ANSWER = {"toast": {"type": "success", "content": "已保存 Saved"},
          "card": {"type": "raw", "data": {"schema": "2.0", "body": {"elements": []}}}}


def payload(name: str, event_id: str) -> dict:
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    data["header"]["event_id"] = event_id
    return data


class Recorder:
    """A handler that keeps what it was given and answers callbacks with ANSWER."""

    def __init__(self, after: Callable[[], None] | None = None, pause: float = 0.0,
                 before: Callable[[], object] | None = None):
        self.seen: list[dict] = []
        self.after, self.pause, self.before = after, pause, before

    def __call__(self, data: dict) -> Answer:
        self.seen.append(copy.deepcopy(data))
        if self.before is not None:
            self.before()
        time.sleep(self.pause)
        return Answer(200, ANSWER, self.after)

    def event_ids(self) -> list[str]:
        return [d["header"]["event_id"] for d in self.seen]


@pytest.fixture
def server() -> Iterator[LongConnServer]:
    gateway = LongConnServer().start()
    yield gateway
    gateway.stop()


@pytest.fixture
def connect(server: LongConnServer) -> Iterator[Callable[..., LongConnection]]:
    opened: list[LongConnection] = []

    def open_(handle: Callable[[dict], Answer], secret: str | None = None) -> LongConnection:
        conn = LongConnection(server.app_id, secret or server.app_secret, server.domain, handle)
        opened.append(conn)
        conn.start()
        if secret is None:
            wait_until(lambda: conn.state.name == "connected" and server.connections == 1)
        return conn

    yield open_
    for conn in opened:
        conn.stop()


def test_an_event_reaches_the_handler_once_as_the_webhook_json(server, connect) -> None:
    """It hands the handler the decrypted webhook JSON, once, and answers an event with its code alone."""
    handler = Recorder()
    connect(handler)
    event = payload("im_message_receive_v1.json", "ev_1")
    assert server.push(event) == {}
    time.sleep(0.2)
    assert handler.seen == [event]


def test_a_card_callback_is_answered_with_the_handlers_dict(server, connect) -> None:
    """It sends back exactly the handler's body as the callback's answer."""
    handler = Recorder()
    connect(handler)
    click = payload("card_action_trigger.json", "cb_1")
    assert server.push(click) == ANSWER
    assert handler.seen == [click]


def test_a_message_split_across_frames_is_joined_before_handling(server, connect) -> None:
    """It joins a payload Feishu sent in several frames (sum/seq) and answers it once."""
    handler = Recorder()
    connect(handler)
    click = payload("card_action_trigger.json", "cb_parts")
    assert server.push(click, parts=3) == ANSWER
    assert handler.seen == [click]


def test_the_answer_goes_back_while_the_slow_part_runs_after_it(server, connect) -> None:
    """It answers within Feishu's 3 s and runs `after` (here 2 s of work) only once the answer is written."""
    done = threading.Event()

    def slow() -> None:
        time.sleep(2.0)
        done.set()

    connect(Recorder(after=slow))
    assert server.push(payload("card_action_trigger.json", "cb_slow")) == ANSWER
    assert not done.is_set()  # the answer went back before the slow part ended
    assert done.wait(5)


def test_callbacks_are_handled_side_by_side_not_one_after_another(server, connect) -> None:
    """It handles callbacks in worker threads: three callbacks that each wait for the other two are all answered."""
    together = threading.Barrier(3, timeout=10)  # broken, and the handler raises, unless all three run at once
    handler = Recorder(before=together.wait)
    connect(handler)
    answers: list[dict] = []
    pushes = [threading.Thread(target=lambda i=i: answers.append(
        server.push(payload("card_action_trigger.json", f"cb_{i}")))) for i in range(3)]
    for push in pushes:
        push.start()
    for push in pushes:
        push.join()
    assert answers == [ANSWER] * 3 and not together.broken


def test_after_does_not_run_when_the_answer_could_not_be_written(server, connect) -> None:
    """It skips `after` for an answer lost with its connection; the re-push is answered and its `after` runs once."""
    entered, release, afters = threading.Event(), threading.Event(), []

    def handle(data: dict) -> Answer:
        entered.set()
        release.wait(5)
        return Answer(200, ANSWER, lambda: afters.append(data["header"]["event_id"]))

    conn = connect(handle)
    answer: list[dict] = []
    push = threading.Thread(target=lambda: answer.append(server.push(payload("card_action_trigger.json", "cb_x"))))
    server.busy = True  # the reconnect waits until the endpoint answers again
    push.start()
    assert entered.wait(5)
    assert server.drop_connections() == 1
    wait_until(lambda: conn.state.name == "reconnecting")
    release.set()  # the answer now has no connection to go to
    time.sleep(0.3)
    assert afters == []
    server.busy = False
    push.join(10)
    assert answer == [ANSWER]
    wait_until(lambda: afters == ["cb_x"])


def test_a_dropped_connection_reconnects_and_nothing_is_delivered_twice(server, connect, caplog) -> None:
    """It reconnects after a drop (logging each state once), then the next push arrives, each event exactly once."""
    handler = Recorder()
    conn = connect(handler)
    caplog.set_level("INFO", logger="assessbot.longconn")
    server.push(payload("im_message_receive_v1.json", "ev_before"))
    assert server.drop_connections() == 1
    wait_until(lambda: conn.state.name == "connected" and server.connections == 1 and server.handshakes == 2)
    assert server.push(payload("card_action_trigger.json", "cb_after")) == ANSWER
    time.sleep(0.2)
    assert handler.event_ids() == ["ev_before", "cb_after"]
    lines = [r.getMessage() for r in caplog.records if r.name == "assessbot.longconn"]
    # one line per change of state: a slow machine may need a second try, never a line repeated
    assert "long connection reconnecting" in lines and lines[-1] == "long connection connected"
    assert all(a != b for a, b in zip(lines, lines[1:], strict=False))
    assert conn.state.error == "connection lost (close code 1006)"


def test_stop_returns_within_seconds_and_leaves_no_thread(server, connect) -> None:
    """It stops within a few seconds, closes the socket, and ends every thread it started."""
    conn = connect(Recorder())
    assert conn.stop(5.0)  # True: stopped within the 5 s it was given
    assert conn.state.name == "stopped"
    wait_until(lambda: server.connections == 0)
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("longconn")])


def test_stop_first_answers_what_is_in_flight(server, connect) -> None:
    """It lets a callback being handled when stop() comes finish and go back before closing."""
    handler = Recorder(pause=0.5)
    conn = connect(handler)
    answer: list[dict] = []
    push = threading.Thread(target=lambda: answer.append(server.push(payload("card_action_trigger.json", "cb_s"))))
    push.start()
    wait_until(lambda: handler.seen)
    assert conn.stop(5.0)
    push.join(5)
    assert answer == [ANSWER]


def test_refused_credentials_stop_the_connection_with_the_reason(server, connect) -> None:
    """It does not retry credentials the endpoint refused; the state says stopped and why."""
    conn = connect(Recorder(), secret="wrong")
    assert conn.wait(5)
    assert conn.state.name == "stopped"
    assert conn.state.error == "ClientException: 403: app_id or app_secret is invalid"


def test_a_connection_that_cannot_come_back_ends_with_the_reason() -> None:
    """It stops (rather than idling without a connection) once the server's ReconnectCount has run out."""
    gateway = LongConnServer(client_config={"ReconnectCount": 1, "ReconnectInterval": 0, "ReconnectNonce": 0,
                                            "PingInterval": 30}).start()
    try:
        conn = LongConnection(gateway.app_id, gateway.app_secret, gateway.domain, Recorder())
        conn.start()
        wait_until(lambda: conn.state.name == "connected")
        gateway.busy = True
        gateway.drop_connections()
        assert conn.wait(5)
        assert conn.state.as_dict() == {
            "state": "stopped", "since": pytest.approx(time.time(), abs=5),
            "last_error": "ServerUnreachableException: unable to connect to the server after trying 1 times"}
    finally:
        conn.stop()
        gateway.stop()


def test_only_one_long_connection_runs_per_process(server, connect) -> None:
    """It refuses a second connection in the same process (lark-oapi's ws loop is a module global)."""
    connect(Recorder())
    with pytest.raises(RuntimeError, match="already running"):
        LongConnection(server.app_id, server.app_secret, server.domain, Recorder()).start()


def test_a_handler_that_raises_is_answered_with_an_error_code(server, connect) -> None:
    """It answers 500 (so Feishu pushes again) when the handler raises, and keeps the connection."""

    def broken(data: dict) -> Answer:
        raise ValueError("bug")

    conn = connect(broken)
    with pytest.raises(PushFailed, match="code 500"):
        server.push(payload("card_action_trigger.json", "cb_bug"), timeout=2.0)
    assert conn.state.name == "connected"


def test_the_probe_asks_the_endpoint_without_connecting(server) -> None:
    """It says whether the app would get a connection, and why not, without opening one."""
    assert probe(server.app_id, server.app_secret, server.domain) is None
    assert probe(server.app_id, "wrong", server.domain) == "403: app_id or app_secret is invalid"
    server.busy = True
    assert probe(server.app_id, server.app_secret, server.domain) == "1: system busy"
    assert server.handshakes == 0


def test_a_message_cut_mid_frames_is_pushed_again_whole_and_handled_once(server, connect) -> None:
    """It reconnects after the gateway cut the connection one frame into a three-frame message; the push comes again
    on the new connection, is joined and handled once."""
    handler = Recorder()
    connect(handler)
    server.fault("cut", after=1)
    click = payload("card_action_trigger.json", "cb_cut")
    assert server.push(click, timeout=10.0, parts=3) == ANSWER
    assert handler.seen == [click]
    assert server.handshakes == 2
    counts = server.faults()["counts"]
    assert (counts["cut"], counts["pushed_again"]) == (1, 1)


def test_a_message_delivered_twice_reaches_the_handler_twice_and_is_answered(server, connect) -> None:
    """It hands the handler each copy of a message the gateway sent twice with the same message_id (the bot's
    storage, not the connection, makes the second one harmless)."""
    handler = Recorder()
    connect(handler)
    server.fault("duplicate")
    event = payload("im_message_receive_v1.json", "ev_twice")
    assert server.push(event) == {}
    wait_until(lambda: len(handler.seen) == 2)
    assert handler.seen == [event, event] and server.faults()["counts"]["duplicated"] == 1


@pytest.mark.parametrize("how", ["endpoint", "handshake"])
def test_reconnects_refused_for_a_while_are_retried_until_accepted(server, connect, how) -> None:
    """It keeps trying while the gateway refuses reconnects (busy endpoint, or refused handshake), and is connected
    again, with the push made meanwhile answered, once the refusal ends."""
    handler = Recorder()
    conn = connect(handler)
    server.fault("refuse", seconds=2.0, how=how)
    server.fault("drop")
    wait_until(lambda: conn.state.name == "reconnecting")
    assert server.push(payload("card_action_trigger.json", f"cb_{how}"), timeout=10.0) == ANSWER
    assert conn.state.name == "connected" and server.handshakes == 2
    counts = server.faults()["counts"]
    assert counts["refused"] >= 1 and counts["dropped"] == 1


def test_a_fault_with_an_unknown_kind_or_parameter_is_refused(server) -> None:
    """It names what is wrong with a fault it cannot arm, and arms nothing."""
    with pytest.raises(ValueError, match="unknown kind 'boom'"):
        server.fault("boom")
    with pytest.raises(ValueError, match="cut takes no parameter seconds; it takes count, after"):
        server.fault("cut", seconds=1)
    with pytest.raises(ValueError, match="bad value for how='sometimes'"):
        server.fault("refuse", how="sometimes")
    assert server.faults()["armed"] == {"cut": 0, "duplicate": 0, "refuse": None}



def test_pushes_on_a_connection_cut_under_them_wait_for_the_next_without_stalling_the_gateway(server, connect) -> None:
    """It pushes again on the next connection every push that was on a connection the gateway cut, each once more
    (the gateway does not spin on the dead connection, which would keep the new one from being accepted)."""
    connect(Recorder(pause=0.3))
    answers: list[object] = []

    def push(n: int) -> None:
        try:
            answers.append(server.push(payload("im_message_receive_v1.json", f"ev_{n}"), timeout=10.0, parts=3))
        except Exception as exc:  # PushFailed, or no answer at all from a gateway stuck on its loop
            answers.append(exc)

    for round_ in range(3):  # twelve pushes racing the cut: some start on the connection after it was cut
        server.fault("cut")
        pushes = [threading.Thread(target=push, args=(round_ * 12 + n,)) for n in range(12)]
        for thread in pushes:
            thread.start()
        for thread in pushes:
            thread.join()
    assert answers == [{}] * 36
    assert server.faults()["counts"]["pushed_again"] <= 36 and server.handshakes == 4
