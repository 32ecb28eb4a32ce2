"""End to end over loopback HTTP: pushes into the bot, the real lark-oapi client out to the local Open API."""

from __future__ import annotations

import time

import pytest

from bot.sandbox.console.render import render
from bot.sandbox.openapi.checks import card_problems
from bot.sandbox.push import card_action
from tests.support.ids import AID, ALICE, CODING, TOKEN
from tests.support.stack import CHAT, Stack
from tests.support.waiting import wait_until

VALID = {"conclusion": "2", "dim_coding": "4", "dim_design": "3", "dim_communication": "5", "dim_level": "P6",
         "dim_strengths": ["算法", "架构"], "dim_notes": "Solid.", "content": "clear thinker",
         "username": "Alice Zhang"}




@pytest.fixture
def stack(database_url):
    running = Stack(database_url)
    yield running
    running.close()


def test_the_documented_command_reaches_the_open_api_exactly_and_confirms_once(stack):
    response = stack.say(f'/assess {AID} pass coding=4 comment="clear thinker"', "om_typed1")
    assert (response.status_code, response.json()) == (200, {})
    [reply] = wait_until(stack.bot_messages)
    assert [c["body"] for c in stack.api.calls("patch")] == [
        {"conclusion": 2, "assessment_dimension_list": [CODING], "content": "clear thinker"}]
    assert stack.api.assessments()[AID] == {"id": AID, "external_interview_id": f"sandbox-{AID}", "conclusion": 2,
                                            "assessment_dimension_list": [CODING], "content": "clear thinker"}
    time.sleep(0.3)  # nothing else follows
    assert len(stack.bot_messages()) == 1
    assert (reply["parent_id"], reply["msg_type"], reply["history"][0]["via"]) == ("om_typed1", "interactive", "reply")
    assert card_problems(reply["card"]) == []
    shown = render(reply["card"]).text
    assert "Assessment updated · 6930815272790114324" in shown and "Coding: 4 / 5" in shown
    assert "clear thinker" in shown and "Submitted by Alice Zhang" in shown


def test_the_form_is_sent_and_its_submission_is_confirmed_in_the_callback_answer(stack):
    stack.say(f"/assess {AID}", "om_open1")
    [form] = wait_until(stack.bot_messages)
    assert card_problems(form["card"]) == []
    view = render(form["card"])
    assert [c.name for c in view.controls] == ["conclusion", "dim_coding", "dim_design", "dim_communication",
                                               "dim_level", "dim_strengths", "dim_notes", "content", "username"]
    assert view.controls[-1].value == "Alice Zhang"  # her name, from the contact directory
    token = stack.api.issue_callback_token(form["message_id"])
    answer = stack.push(card_action(view.submit.value, VALID, token=TOKEN, operator=ALICE,
                                    message_id=form["message_id"], chat_id=CHAT, callback_token=token)).json()
    assert answer["toast"]["type"] == "success"
    assert card_problems(answer["card"]["data"]) == []
    assert "Conclusion: Pass" in render(answer["card"]["data"]).text
    held = stack.api.assessments()[AID]
    assert (held["conclusion"], held["content"], held["username"]) == (2, "clear thinker", "Alice Zhang")
    assert [d.get("score", d.get("option", d.get("options", d.get("content"))))
            for d in held["assessment_dimension_list"]] == [4, 3, 5, "P6", ["算法", "架构"], "Solid."]
    assert len(stack.bot_messages()) == 1  # the form; the confirmation came in the answer


def test_a_burst_of_system_errors_is_retried_to_one_correct_write_and_one_confirmation(stack):
    stack.ctx.runner.rand = lambda low, high: min(high, 0.05)  # keep the back-off short
    stack.api.fault("patch", "error", count=3, code=1002001, status=500)
    stack.say(f"/assess {AID} pass coding=4", "om_burst1")
    [reply] = wait_until(stack.bot_messages, timeout=20)
    assert [(c["status"], c["code"]) for c in stack.api.calls("patch")] == [(500, 1002001)] * 3 + [(200, 0)]
    held = stack.api.assessments()[AID]
    assert (held["conclusion"], held["assessment_dimension_list"]) == (2, [CODING])
    time.sleep(0.3)
    assert len(stack.bot_messages()) == 1
    assert "Assessment updated" in render(reply["card"]).text


def test_revoked_tenant_tokens_are_fetched_again_once(stack):
    stack.say(f"/assess {AID} fail", "om_tok1")
    wait_until(stack.bot_messages)
    stack.api.fault("all", "invalidate_tokens")
    stack.say(f"/assess {AID} pass", "om_tok2")
    wait_until(lambda: len(stack.bot_messages()) == 2)
    assert stack.api.assessments()[AID]["conclusion"] == 2
    assert len(stack.api.calls("token")) == 2
