"""JSON may escape half of a UTF-16 pair (`"\\ud800"`), which decodes to a lone surrogate: no text. Such a push is
refused at the door as malformed (400, or 401 unsigned), never a 500 and never a bug logged after it was read."""

from __future__ import annotations

import json

import pytest

from bot.feishu import security
from tests.support.ids import TOKEN

LONE = "\ud800"


def test_an_unsigned_challenge_whose_token_is_a_lone_surrogate_is_unauthorized_not_a_crash(push, ctx):
    body = json.dumps({"type": "url_verification", "token": "ab" + LONE, "challenge": "c"}).encode()
    assert push.post(body, encrypted=False, signed=False).status_code == 401
    assert sum(ctx.store.jobs_by_status().values()) == 0


@pytest.mark.parametrize("where", ["sender", "text", "key"])
def test_a_signed_message_with_a_lone_surrogate_anywhere_is_malformed_and_writes_nothing(push, ctx, logs, where):
    payload = push.message_payload("/assess 7412358746023518273 pass coding=4")
    if where == "sender":
        payload["event"]["sender"]["sender_id"]["open_id"] = "ou_" + LONE
    elif where == "text":  # inside the JSON-in-a-string content
        payload["event"]["message"]["content"] = json.dumps({"text": "/todo " + LONE})
    else:
        payload["event"][LONE] = 1
    assert push.post(json.dumps(payload).encode()).status_code == 400  # escaped, as JSON from elsewhere would be
    assert sum(ctx.store.jobs_by_status().values()) == 0
    assert '"level": "ERROR"' not in logs.getvalue() and "handler failed" not in logs.getvalue()


def test_a_card_submission_with_a_lone_surrogate_in_a_form_value_is_malformed(push, logs):
    payload = push.card_payload({"action": "todo"}, {"coding": LONE})
    assert push.post(json.dumps(payload).encode()).status_code == 400
    assert "handler failed" not in logs.getvalue()


def test_text_with_surrogate_pairs_and_escaped_backslashes_is_still_text():
    assert security.json_object(json.dumps({"token": TOKEN, "t": "😀 \\ud800 面"}).encode()) == {
        "token": TOKEN, "t": "😀 \\ud800 面"}
    assert security.json_object(b'{"t": "\\ud83d\\ude00"}') == {"t": "😀"}
    with pytest.raises(security.Rejected):
        security.json_object(b'{"t": ["\\udfff"]}')
