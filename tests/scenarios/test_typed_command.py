"""The typed /assess command, end to end: signed, encrypted pushes in; the exact PATCH and reply card out."""

from __future__ import annotations

import json

import pytest

from tests.support.cards import nodes, shown
from tests.support.ids import AID, ALICE, BOT, CODING, DOMAIN, PAYLOADS, TOKEN, load_payload
from tests.support.push import encrypt

AT = "2026-11-25 17:46 CST (UTC+08:00)"  # the fixed clock's now, as cards show it


def confirmed(card: dict, *lines: str) -> None:
    """The confirmation as the interviewer reads it (both languages' heads), its Edit opening the form again."""
    assert shown(card).splitlines() == ["Assessment updated", "Assessment updated", AID, *lines,
                                        f"Submitted by Alice Zhang · {AT}", f"Assessment ID: {AID}", "Edit"]
    assert shown(card, "zh_cn").splitlines()[:2] == ["外部面评已更新", "外部面评已更新"]
    assert [n["behaviors"] for n in nodes(card) if n.get("tag") == "button"] == [
        [{"type": "callback", "value": {"id": AID, "a": "form"}}]]


def test_it_answers_the_plain_challenge(push):
    response = push.post(load_payload("url_verification.json") | {"token": TOKEN}, encrypted=False, signed=False)
    assert (response.status_code, response.get_json()) == (200, {"challenge": "ajls384kdjxxxx"})


def test_it_answers_the_encrypted_challenge(push):
    response = push.post(load_payload("url_verification.json") | {"token": TOKEN}, signed=False)
    assert (response.status_code, response.get_json()) == (200, {"challenge": "ajls384kdjxxxx"})


def test_it_refuses_a_challenge_with_the_wrong_token(push):
    body = (PAYLOADS / "encrypted_challenge.txt").read_bytes()  # carries token "xxxxxx"
    response = push.post(body, encrypted=False, signed=False)
    assert (response.status_code, response.get_json()) == (401, {"error": "unauthorized"})


def test_a_bad_signature_gets_401_and_changes_nothing(push, feishu, ctx):
    payload = push.message_payload(f"/assess {AID} pass")
    response = push.post(payload, headers={"X-Lark-Signature": "0" * 64})
    ctx.runner.drain()
    assert (response.status_code, response.get_json()) == (401, {"error": "unauthorized"})
    assert feishu.patches() == [] and ctx.store.jobs_by_status() == {}


def test_an_unsigned_event_is_not_let_through_as_a_challenge(push, ctx):
    response = push.post(push.message_payload(f"/assess {AID} pass"), signed=False)
    assert response.status_code == 401 and ctx.store.jobs_by_status() == {}


def test_a_malformed_body_gets_400(push):
    assert push.post(b"not json at all", encrypted=False).status_code == 400
    assert push.post(b'{"encrypt": "%%%"}', encrypted=False).status_code == 400
    assert push.post(b"[1, 2]").status_code == 400


def test_an_unknown_event_type_is_acknowledged_and_ignored(push, feishu, ctx):
    payload = push.message_payload("hello")
    payload["header"]["event_type"] = "contact.user_group.created_v3"
    response = push.post(payload)
    ctx.runner.drain()
    assert (response.status_code, response.get_json()) == (200, {})
    assert feishu.mock.calls == [] or feishu.sent_cards() == []


def test_the_documented_command_patches_exactly_what_was_typed_and_confirms(push, feishu, ctx):
    response = push.message(f'/assess {AID} pass coding=4 comment="clear thinker"', message_id="om_cmd1")
    assert (response.status_code, response.get_json()) == (200, {})
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2, "assessment_dimension_list": [CODING],
                                      "content": "clear thinker"}]
    [sent] = feishu.sent_cards()
    assert (sent["via"], sent["url"], sent["uuid"]) == ("reply", "/open-apis/im/v1/messages/om_cmd1/reply", "om_cmd1:c")
    confirmed(sent["card"], "**Conclusion: Pass**", "Coding: 4 / 5", "Overall comment", "clear thinker")


@pytest.mark.parametrize("word,code", [("pass", 2), ("PASS", 2), ("通过", 2), ("2", 2), ("fail", 1), ("Fail", 1),
                                       ("不通过", 1), ("1", 1), ("pending", 3), ("待定", 3), ("3", 3), ("３", 3)])
def test_each_conclusion_word_is_understood(push, feishu, ctx, word, code):
    push.message(f"/assess {AID} {word}")
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": code}]


def test_full_width_input_and_chinese_quotes_are_accepted(push, feishu, ctx):
    push.message("面评 ６９３０８１５２７２７９０１１４３２４ 通过 coding＝４ comment：「思路清晰，表达流畅」")
    ctx.runner.drain()
    assert feishu.calls("PATCH", AID)
    assert feishu.patches() == [{"conclusion": 2, "assessment_dimension_list": [CODING],
                                      "content": "思路清晰，表达流畅"}]


@pytest.mark.parametrize("typed,item", [
    ("level=P6", {"assessment_type": 2, "title": "建议职级", "option": "P6"}),
    ("tags=算法，架构", {"assessment_type": 4, "title": "亮点", "options": ["算法", "架构"]}),
    ("notes='solid, asked good questions'", {"assessment_type": 3, "title": "面试记录",
                                             "content": "solid, asked good questions"}),
    ("沟通:5", {"assessment_type": 1, "title": "沟通表达", "score": 5}),
])
def test_each_dimension_type_is_sent_with_its_own_field(push, feishu, ctx, typed, item):
    push.message(f"/assess {AID} {typed}")
    ctx.runner.drain()
    assert feishu.patches() == [{"assessment_dimension_list": [item]}]


def test_a_later_write_sends_the_whole_known_list(push, feishu, ctx):
    push.message(f"/assess {AID} pass coding=4")
    ctx.runner.drain()
    push.message(f"/assess {AID} design=3")
    ctx.runner.drain()
    design = {"assessment_type": 1, "title": "系统设计", "description": "架构取舍、可扩展性与可靠性", "score": 3}
    assert feishu.patches()[1] == {"assessment_dimension_list": [CODING, design]}


def _card_text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_a_score_out_of_range_is_explained_and_nothing_is_written(push, feishu, ctx):
    push.message(f"/assess {AID} pass coding=9", message_id="om_bad")
    ctx.runner.drain()
    assert feishu.patches() == []
    [sent] = feishu.sent_cards()
    assert sent["url"] == "/open-apis/im/v1/messages/om_bad/reply"
    assert "1 到 5" in _card_text(sent["card"]) and "from 1 to 5" in _card_text(sent["card"])


def test_an_unknown_dimension_gets_a_did_you_mean(push, feishu, ctx):
    push.message(f"/assess {AID} pass codng=4")
    ctx.runner.drain()
    assert feishu.patches() == []
    [sent] = feishu.sent_cards()
    assert "did you mean coding?" in _card_text(sent["card"])


def test_a_mistyped_conclusion_gets_a_did_you_mean(push, feishu, ctx):
    push.message(f"/assess {AID} pas")
    ctx.runner.drain()
    [sent] = feishu.sent_cards()
    assert "pass" in _card_text(sent["card"]) and feishu.patches() == []


def test_the_same_event_delivered_three_times_has_one_effect(push, feishu, ctx):
    payload = push.message_payload(f"/assess {AID} pass coding=4")
    for _ in range(3):
        assert push.post(payload).status_code == 200
        ctx.runner.drain()
    assert len(feishu.patches()) == 1 and len(feishu.sent_cards()) == 1


def test_a_redelivery_with_a_new_event_id_but_the_same_message_has_no_effect(push, feishu, ctx):
    push.message(f"/assess {AID} pass", message_id="om_same", event_id="ev_a")
    push.message(f"/assess {AID} pass", message_id="om_same", event_id="ev_b")
    ctx.runner.drain()
    assert len(feishu.patches()) == 1


def test_in_a_group_the_bot_acts_only_when_mentioned_and_answers_privately(push, feishu, ctx):
    push.message(f"/assess {AID} pass", chat_type="group")
    ctx.runner.drain()
    assert feishu.patches() == []
    mention = [{"key": "@_user_1", "id": {"open_id": BOT}, "name": "assessbot"}]
    push.message(f"@_user_1 /assess {AID} pass", chat_type="group", mentions=mention, message_id="om_grp")
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}]
    sent = feishu.sent_cards()
    assert sorted((s["url"], s["uuid"]) for s in sent) == [
        ("/open-apis/im/v1/messages/om_grp/reply", "om_grp:n"),
        ("/open-apis/im/v1/messages?receive_id_type=open_id", "om_grp:c"),
    ]
    by_url = {s["url"]: s["card"] for s in sent}
    notice = by_url["/open-apis/im/v1/messages/om_grp/reply"]
    assert shown(notice).splitlines()[-1] == "Sent to you in a private chat with the bot; please look there."
    confirmed(by_url["/open-apis/im/v1/messages?receive_id_type=open_id"], "**Conclusion: Pass**")
    private = feishu.calls("POST", "receive_id_type=open_id")[0]
    assert json.loads(private.request.body)["receive_id"] == ALICE


def test_messages_from_bots_and_non_text_messages_in_groups_are_ignored(push, feishu, ctx):
    push.message(f"/assess {AID} pass", sender_type="app")
    push.message(f"/assess {AID} pass", sender_type="bot")
    push.message("{}", message_type="image", chat_type="group")
    ctx.runner.drain()
    assert feishu.sent_cards() == [] and ctx.store.jobs_by_status() == {}


def test_a_parameter_error_is_not_retried_and_the_interviewer_sees_it(push, feishu, ctx, clock):
    feishu.api.fault("patch", "error", status=400, code=1002002, msg="参数错误", count=None)
    push.message(f"/assess {AID} pass", message_id="om_p")
    for _ in range(5):
        ctx.runner.drain()
        clock.advance(120)
    assert len(feishu.patches()) == 1
    [sent] = feishu.sent_cards()
    text = _card_text(sent["card"])
    assert sent["uuid"] == "om_p:f" and "1002002" in text and feishu.api.calls("patch")[0]["log_id"] in text
    assert ctx.store.jobs_by_status() == {"dead": 1}


def test_a_system_error_is_retried_with_backoff_then_succeeds_once(push, feishu, ctx, clock):
    feishu.api.fault("patch", "error", status=500, code=1002001)
    feishu.api.fault("patch", "drop")
    feishu.api.fault("patch", "error", status=502, code=2200, msg="internal error")
    push.message(f"/assess {AID} pass")
    gaps, last = [], clock()
    while len(feishu.patches()) < 4:
        if ctx.runner.drain():
            gaps.append(round(clock() - last, 3))
            last = clock()
        clock.advance(0.5)
    assert len(feishu.patches()) == 4 and len(feishu.sent_cards()) == 1
    assert ctx.store.jobs_by_status() == {"done": 1}


def test_a_system_error_that_never_ends_gives_up_after_five_attempts_and_says_so(push, feishu, ctx, clock):
    feishu.api.fault("patch", "error", status=500, code=1002001, count=None)
    push.message(f"/assess {AID} pass coding=4", message_id="om_x")
    for _ in range(200):
        ctx.runner.drain()
        clock.advance(1)
    assert len(feishu.patches()) == 5
    [sent] = feishu.sent_cards()
    assert sent["uuid"] == "om_x:f" and "1002001" in _card_text(sent["card"])
    assert ctx.store.jobs_by_status() == {"dead": 1}


def test_help_lists_every_command(push, feishu, ctx):
    push.message("/help", message_id="om_h")
    push.message("帮助", message_id="om_h2")
    ctx.runner.drain()
    cards = feishu.sent_cards()
    assert len(cards) == 2 and cards[0]["card"] == cards[1]["card"]
    assert "/assess" in _card_text(cards[0]["card"]) and "/history" in _card_text(cards[0]["card"])


del DOMAIN, encrypt


def test_every_mistake_of_a_typed_command_is_reported_at_once(push, feishu, ctx):
    push.message(f"/assess {AID} pas codng=4 design=9")
    ctx.runner.drain()
    card = feishu.sent_cards()[-1]["card"]
    said = [el["text"]["i18n_content"]["en_us"] for el in card["body"]["elements"]
            if el.get("tag") == "div" and el["text"].get("text_color") == "red"]
    assert card["header"]["title"]["i18n_content"]["en_us"] == "Some values don't fit the rubric"
    assert len(said) == 3
    assert said[0] == "'pas' is not a conclusion. Did you mean pass?"  # said once, not asked twice
    assert "codng" in said[1] and "coding" in said[1]
    assert "design" in said[2].lower() and "5" in said[2]
    assert feishu.patches() == [] and ctx.store.jobs_by_status() == {"done": 1}  # nothing written
