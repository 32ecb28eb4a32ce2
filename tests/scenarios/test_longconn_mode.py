"""FEISHU_EVENT_MODE=longconn end to end in one process: lark-oapi's real ws client, the local gateway and Open API."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from bot.actions import OpenForm
from bot.adapters.longconn import LEASE
from bot.assessment import Assessment, Conclusion
from bot.display import when
from bot.sandbox.console.render import render
from bot.sandbox.openapi.checks import card_problems
from bot.sandbox.openapi.longconn import PushFailed
from bot.sandbox.push import message_event
from cards.confirmation import confirmation_card
from tests.support.ids import AID, ALICE, CODING, START
from tests.support.longconn import CHAT, LongConnStack, threads_named
from tests.support.waiting import wait_until

VALID = {"conclusion": "2", "dim_coding": "4", "dim_design": "3", "dim_communication": "5", "dim_level": "P6",
         "dim_strengths": ["算法", "架构"], "dim_notes": "Solid.", "content": "clear thinker",
         "username": "Alice Zhang"}


@pytest.fixture
def stack(database_url):
    running = LongConnStack(database_url, clock=lambda: START)
    yield running
    running.close()


def open_form(stack: LongConnStack) -> dict:
    assert stack.say(f"/assess {AID}", "om_open1") == {}
    [form] = wait_until(stack.bot_messages)
    return form


def test_a_typed_command_over_the_connection_gets_the_exact_reply_card(stack):
    """It handles a typed command pushed over the connection: one exact PATCH, one exact reply card."""
    assert stack.say(f'/assess {AID} pass coding=4 comment="clear thinker"', "om_typed1") == {}
    [reply] = wait_until(stack.bot_messages)
    assert [c["body"] for c in stack.api.calls("patch")] == [
        {"conclusion": 2, "assessment_dimension_list": [CODING], "content": "clear thinker"}]
    state = Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 4}, content="clear thinker")
    expected = confirmation_card(AID, state, stack.ctx.rubric, by="Alice Zhang", at=when(stack.ctx, START),
                                 edit_value=OpenForm(AID).encode())
    assert (reply["parent_id"], reply["history"][0]["via"], reply["card"]) == ("om_typed1", "reply", expected)
    time.sleep(0.3)
    assert len(stack.bot_messages()) == 1


def test_a_form_submission_is_answered_over_the_connection_with_the_new_card(stack):
    """It answers the card callback over the connection with the confirmation card, and writes once."""
    form = open_form(stack)
    answer = stack.click(form["message_id"], render(form["card"]).submit.value, VALID)
    assert answer["toast"]["type"] == "success", answer
    assert card_problems(answer["card"]["data"]) == []
    assert "Conclusion: Pass" in render(answer["card"]["data"]).text
    held = stack.api.assessments()[AID]
    assert (held["conclusion"], held["content"], held["username"]) == (2, "clear thinker", "Alice Zhang")
    assert len(stack.api.calls("patch")) == 1
    assert len(stack.bot_messages()) == 1  # the form; the confirmation came in the answer


def test_a_callback_is_answered_within_3_s_while_the_open_api_is_slow(stack):
    """It answers "saving…" within Feishu's 3 s while the PATCH takes 4 s, then updates the card after the answer."""
    form = open_form(stack)
    stack.api.fault("patch", "latency", seconds=4.0, count=1)
    started = time.monotonic()
    answer = stack.click(form["message_id"], render(form["card"]).submit.value, VALID)
    answered = time.monotonic()
    assert answered - started < 3.0
    assert answer["toast"]["type"] == "info" and "Saving" in answer["toast"]["i18n"]["en_us"]
    assert stack.api.calls("card_update") == []
    [update] = wait_until(lambda: stack.api.calls("card_update"), 10.0)
    assert update["monotonic"] > answered and update["status"] == 200
    assert "Conclusion: Pass" in render(update["body"]["card"]).text
    assert len(stack.api.calls("patch")) == 1


def test_a_dropped_connection_loses_nothing_and_repeats_nothing(stack):
    """It reconnects after a drop; what was pushed meanwhile arrives once, and a re-push of it is not applied twice."""
    assert stack.say(f"/assess {AID} fail", "om_d1", event_id="ev_d1") == {}
    wait_until(lambda: len(stack.bot_messages()) == 1)
    stack.gateway.busy = True  # the endpoint refuses for a moment: the reconnect has to wait
    assert stack.gateway.drop_connections() == 1
    answers: list[dict] = []
    pushing = threading.Thread(target=lambda: answers.append(stack.say(f"/assess {AID} pass", "om_d2",
                                                                       event_id="ev_d2", timeout=15.0)))
    pushing.start()
    wait_until(lambda: stack.elector.conn.state.name == "reconnecting")
    time.sleep(0.3)
    assert answers == [] and stack.gateway.connections == 0  # pushed while there is no connection
    stack.gateway.busy = False
    pushing.join(15)
    assert answers == [{}]
    wait_until(lambda: stack.elector.conn.state.name == "connected")
    assert stack.say(f"/assess {AID} pass", "om_d2", event_id="ev_d2") == {}  # Feishu's own re-push
    assert stack.say(f"/assess {AID} fail coding=4", "om_d3", event_id="ev_d3") == {}
    wait_until(lambda: len(stack.bot_messages()) == 3)
    time.sleep(0.5)
    assert [m["parent_id"] for m in stack.bot_messages()] == ["om_d1", "om_d2", "om_d3"]
    assert [c["body"]["conclusion"] for c in stack.api.calls("patch")] == [1, 2, 1]
    assert stack.gateway.handshakes == 2


def test_an_event_the_database_cannot_store_is_left_unacknowledged_and_stored_once_when_pushed_again(stack):
    """It answers a 503-class refusal with an error code over the connection (Feishu pushes again), never 200."""
    from sqlalchemy import create_engine

    from bot.store import make_engine

    store = stack.ctx.store
    working = store.engine
    store.engine = (make_engine("postgresql://postgres@127.0.0.1:1/unreachable") if store.dialect == "postgresql"
                    else create_engine("sqlite:////proc/assessbot-missing/assessbot.db"))
    try:
        with pytest.raises(PushFailed, match="code 503"):
            stack.say(f"/assess {AID} pass", "om_u1", event_id="ev_u1")
    finally:
        store.engine.dispose()
        store.engine = working
    assert stack.say(f"/assess {AID} pass", "om_u1", event_id="ev_u1") == {}
    wait_until(stack.bot_messages)
    time.sleep(0.3)
    assert len(stack.bot_messages()) == 1 and len(stack.api.calls("patch")) == 1


def test_readyz_reports_the_connection_from_its_lease(stack):
    """It answers /readyz with the connection state the lease holder wrote, and 503 once nobody holds it."""
    client = stack.app.test_client()
    wait_until(lambda: client.get("/readyz").status_code == 200)
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["connection"]["state"] == "connected"
    assert body["connection"]["holder"] == stack.elector.holder and body["connection"]["mode"] == "longconn"
    stack.stop_bot()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["connection"]["state"] == "no holder"
    assert response.get_json()["connection"]["last"]["state"] == "stopped"


def test_the_bot_stops_cleanly_within_seconds_and_gives_the_lease_back(stack):
    """It closes the connection, ends its threads and releases the lease within a few seconds of being told."""
    assert stack.stop_bot(5.0) < 3.0
    wait_until(lambda: stack.gateway.connections == 0, 3.0)
    wait_until(lambda: not threads_named("longconn") and not threads_named("assessbot-longconn"), 3.0)
    lease = stack.ctx.store.lease(LEASE)
    assert lease is not None and lease.holder is None and lease.state["state"] == "stopped"


def test_the_webhook_route_is_closed_without_its_secrets(stack):
    """It answers 404 at /feishu/events when long-connection mode runs without an Encrypt Key and token."""
    response = stack.app.test_client().post("/feishu/events", data=b"{}", content_type="application/json")
    assert (response.status_code, response.get_json()) == (404, {"error": "not found"})


def test_the_gateways_faults_are_armed_over_the_admin_api_and_nothing_is_applied_twice(stack):
    """It arms a cut and a duplicate over HTTP, pushes a command in three frames through each: both are answered,
    each command is written and confirmed once; a bad fault is a 400 naming the problem."""
    admin = f"{stack.openapi.url}/_sandbox/longconn"

    def push(text: str, message_id: str) -> requests.Response:
        stack.api.record_user_message(message_id, CHAT, ALICE, text)
        event = message_event(text, token="", sender=ALICE, chat_id=CHAT, message_id=message_id)
        return requests.post(admin, json={"payload": event, "timeout": 10, "parts": 3}, timeout=20)

    assert requests.post(f"{admin}/faults", json={"kind": "cut", "after": 2}, timeout=5).json()["armed"] == {
        "cut": 1, "duplicate": 0, "refuse": None}
    assert push(f"/assess {AID} fail", "om_f1").json() == {"answer": {}}
    requests.post(f"{admin}/faults", json={"kind": "duplicate"}, timeout=5).raise_for_status()
    assert push(f"/assess {AID} pass", "om_f2").json() == {"answer": {}}
    wait_until(lambda: len(stack.bot_messages()) == 2)
    time.sleep(0.5)
    assert [m["parent_id"] for m in stack.bot_messages()] == ["om_f1", "om_f2"]
    assert [c["body"]["conclusion"] for c in stack.api.calls("patch")] == [1, 2]
    status = requests.get(admin, timeout=5).json()
    assert status["handshakes"] == 2 and len(status["opened"]) == 2
    assert {k: status["counts"][k] for k in ("cut", "duplicated", "pushed_again")} == {
        "cut": 1, "duplicated": 1, "pushed_again": 1}
    bad = requests.post(f"{admin}/faults", json={"kind": "refuse", "seconds": -1}, timeout=5)
    assert (bad.status_code, bad.json()) == (400, {"error": "bad value for seconds=-1"})
    assert requests.delete(f"{admin}/faults", timeout=5).json()["armed"] == {"cut": 0, "duplicate": 0,
                                                                             "refuse": None}
