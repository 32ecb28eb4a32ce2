"""The form card, end to end: opened by /assess <id>, submitted as a signed card.action.trigger."""

from __future__ import annotations

import json
import re

import pytest

from bot import auth
from bot.actions import OpenForm
from bot.assessment import Assessment, Conclusion
from cards.elements import toast
from tests.support.cards import filled, nodes, shown
from tests.support.ids import ADMIN, AID, ALICE, BOB, BOT
from tests.support.waiting import wait_until

VALID = {"conclusion": "2", "dim_coding": "4", "dim_design": "3", "dim_communication": "5", "dim_level": "P6",
         "dim_strengths": ["算法", "架构"], "dim_notes": "Solid.\nAsked good questions.", "content": "clear thinker",
         "username": "Alice Zhang"}
BODY = {"username": "Alice Zhang", "conclusion": 2, "assessment_dimension_list": [
    {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力", "score": 4},
    {"assessment_type": 1, "title": "系统设计", "description": "架构取舍、可扩展性与可靠性", "score": 3},
    {"assessment_type": 1, "title": "沟通表达", "score": 5},
    {"assessment_type": 2, "title": "建议职级", "option": "P6"},
    {"assessment_type": 4, "title": "亮点", "options": ["算法", "架构"]},
    {"assessment_type": 3, "title": "面试记录", "content": "Solid.\nAsked good questions."}],
    "content": "clear thinker"}
STATE = Assessment(conclusion=Conclusion.PASS, content="clear thinker", username="Alice Zhang", dimensions={
    "coding": 4, "design": 3, "communication": 5, "level": "P6", "strengths": ("算法", "架构"),
    "notes": "Solid.\nAsked good questions."})


def submit_button(card: dict) -> dict:
    """The callback value of the form's submit button."""
    [value] = [node["behaviors"][0]["value"] for node in nodes(card)
               if node.get("tag") == "button" and node.get("form_action_type") == "submit"]
    return value


def open_form(push, feishu, ctx, sender=ALICE) -> dict:
    push.message(f"/assess {AID}", sender=sender, message_id="om_open")
    ctx.runner.drain()
    sent = feishu.sent_cards()[-1]
    return submit_button(sent["card"])


CONFIRMED = ["Assessment updated", "Assessment updated", AID, "**Conclusion: Pass**", "Coding: 4 / 5",
             "System design: 3 / 5", "Communication: 5 / 5", "Suggested level: P6",
             "Strengths: Algorithms, Architecture", "Interview notes", "Solid.", "Asked good questions.",
             "Overall comment", "clear thinker", "Interviewer: Alice Zhang",
             "Submitted by Alice Zhang · 2026-11-25 17:46 CST (UTC+08:00)", f"Assessment ID: {AID}", "Edit"]
CONFIRMED_ZH = ["外部面评已更新", "外部面评已更新", AID, "**结论：通过**", "编码能力：4 / 5", "系统设计：3 / 5",
                "沟通表达：5 / 5", "建议职级：P6", "亮点：算法、架构", "面试记录", "Solid.", "Asked good questions.",
                "综合记录", "clear thinker", "面试官：Alice Zhang",
                "提交人：Alice Zhang · 2026-11-25 17:46 CST (UTC+08:00)", f"面评 ID：{AID}", "修改"]

def confirmed(card: dict) -> bool:
    """The confirmation of VALID as the interviewer reads it in each language, its Edit opening the form again."""
    assert shown(card).splitlines() == CONFIRMED and shown(card, "zh_cn").splitlines() == CONFIRMED_ZH
    assert [n["behaviors"] for n in nodes(card) if n.get("tag") == "button"] == [
        [{"type": "callback", "value": {"id": AID, "a": "form"}}]]
    return True


def test_assess_with_an_id_alone_replies_with_the_prefilled_form(push, feishu, ctx):
    value = open_form(push, feishu, ctx)
    [sent] = feishu.sent_cards()
    assert (sent["url"], sent["uuid"]) == ("/open-apis/im/v1/messages/om_open/reply", "om_open:form")
    assert value == auth.form_value(ctx.settings, AID, ALICE, value["n"])
    # an assessment the bot never wrote, named by Feishu's id alone: what Feishu holds is unknown, and it says so
    card = sent["card"]
    assert shown(card).splitlines()[:4] == [
        "Fill in the assessment", "Fill in the assessment", AID,
        "The bot has no record of this assessment and cannot see what Feishu holds: submitting replaces Feishu's "
        "conclusion, dimensions and comment with what is filled in here."]
    assert shown(card, "zh_cn").splitlines()[:4] == [
        "填写面评", "填写面评", AID,
        "机器人没有这份面评的记录，看不到飞书中已填写的内容：提交后，这里的结论、各维度和评语会替换飞书中的内容。"]
    assert [(n["tag"], n["name"], n.get("required", False)) for n in nodes(card) if n.get("name")] == [
        ("form", "assess_form", False), ("select_static", "conclusion", True), ("select_static", "dim_coding", True),
        ("select_static", "dim_design", True), ("select_static", "dim_communication", False),
        ("select_static", "dim_level", False), ("multi_select_static", "dim_strengths", False),
        ("input", "dim_notes", False), ("input", "content", False), ("input", "username", False),
        ("button", "submit", False), ("button", "reset", False)]
    assert filled(card) == {"dim_strengths": [], "username": "Alice Zhang"}  # nothing chosen; the name offered


def test_a_complete_valid_form_patches_everything_and_confirms_in_place(push, feishu, ctx):
    value = open_form(push, feishu, ctx)
    response = push.card(value, VALID)
    assert feishu.patches() == [BODY]
    answer = response.get_json()
    assert answer["toast"] == {"type": "success", "content": "面评已保存",
                               "i18n": {"zh_cn": "面评已保存", "en_us": "Assessment saved"}}
    assert answer["card"]["type"] == "raw" and confirmed(answer["card"]["data"]) and set(answer) == {"toast", "card"}
    response.close()
    wait_until(lambda: ctx.store.jobs_by_status() == {"done": 2})  # marked done just after its card was answered
    assert len(feishu.sent_cards()) == 1  # the form itself; the confirmation came in the answer


PROBLEM = {  # each bad value's line on the form, as an English reader sees it
    ("dim_coding", "9"): "'Coding' takes a whole number from 1 to 5, not '9'",
    ("dim_level", "P9"): "'Suggested level' has no option 'P9'; choose one of P4, P5, P6, P7",
    ("dim_strengths", "['算法', '魔法']"):
        "'Strengths' has no option 魔法; choose from Algorithms, Engineering quality, Architecture, Business sense, "
        "Learning ability",
    ("conclusion", "7"): "Conclusion '7' is not valid; use pass / fail / pending (通过 / 不通过 / 待定)",
    ("conclusion", "None"): "Choose a conclusion",  # the error, below the select's placeholder of the same words
    ("dim_coding", "None"): "'Coding' is required",
}


@pytest.mark.parametrize("field,bad", [("dim_coding", "9"), ("dim_level", "P9"), ("dim_strengths", ["算法", "魔法"]),
                                       ("conclusion", "7"), ("conclusion", None), ("dim_coding", None)])
def test_an_invalid_value_returns_the_same_form_keeping_every_entered_value(push, feishu, ctx, field, bad):
    value = open_form(push, feishu, ctx)
    entered = {k: v for k, v in VALID.items() if k != field} | ({field: bad} if bad is not None else {})
    response = push.card(value, entered)
    body = response.get_json()
    assert feishu.patches() == []
    assert body["toast"]["type"] == "error"
    card = body["card"]["data"]
    assert submit_button(card) == value
    lines = shown(card).splitlines()
    assert lines[:4] == ["Fill in the assessment", "Fill in the assessment", AID,
                         "1 value needs fixing; nothing has been saved yet."]  # the notice heads the form
    problem = PROBLEM[field, str(bad)]
    assert lines.count(problem) == (2 if problem == "Choose a conclusion" else 1)  # said once, under its field
    kept = {k: v for k, v in entered.items() if (k, str(v)) not in (("dim_coding", "9"), ("dim_level", "P9"),
                                                                   ("conclusion", "7"))}  # no option shows those
    if field == "dim_strengths":
        kept[field] = ["算法"]  # the option that exists stays chosen
    assert filled(card) == kept


def test_a_double_submit_writes_once_and_says_nothing_changed(push, feishu, ctx):
    value = open_form(push, feishu, ctx)
    push.card(value, VALID).close()
    ctx.runner.drain()
    second = push.card(value, VALID).get_json()
    assert second["toast"] == toast("info", "没有改动，未发送给飞书。", "Nothing changed; nothing was sent to Feishu.")
    assert second["card"]["data"]["header"]["title"]["i18n_content"]["en_us"] == "Nothing changed"
    assert len(feishu.patches()) == 1


def test_someone_else_cannot_submit_a_form_opened_for_another(push, feishu, ctx):
    value = open_form(push, feishu, ctx)
    response = push.card(value, VALID, operator=BOB)
    assert response.get_json()["toast"]["type"] == "error" and "card" not in response.get_json()
    assert feishu.patches() == []
    [entry] = ctx.store.history(AID)
    assert (entry.actor, entry.action, entry.result, entry.detail["reason"]) == (
        BOB, "write", "denied", "form opened for someone else")


def test_a_crafted_callback_value_is_refused(push, feishu, ctx):
    forged = {"a": "submit", "id": AID, "for": BOB, "n": "0123456789abcdef", "sig": "0" * 32}
    response = push.card(forged, VALID, operator=BOB)
    assert response.get_json()["toast"]["type"] == "error" and feishu.patches() == []


def test_an_admin_may_submit_a_form_opened_for_someone_else(push, feishu, ctx):
    ctx.settings = ctx.settings.model_copy(update={"assessbot_admins": (ADMIN,)})
    value = open_form(push, feishu, ctx)
    response = push.card(value, VALID, operator=ADMIN)
    assert response.get_json()["toast"]["type"] == "success" and len(feishu.patches()) == 1


def test_a_slow_open_api_gets_a_timely_saving_answer_then_one_delayed_update(push, feishu, ctx):
    ctx.settings = ctx.settings.model_copy(update={"assessbot_callback_budget": 0.3})
    value = open_form(push, feishu, ctx)
    feishu.api.fault("patch", "latency", seconds=1.0, count=1)
    response = push.card(value, VALID)  # answered within the budget: the PATCH is still under way
    body = response.get_json()
    assert body["toast"]["type"] == "info"
    assert body["card"]["data"]["header"]["title"]["i18n_content"]["en_us"].startswith("Saving")
    response.close()  # the answer has gone out: only now may the card be updated
    delayed = wait_until(lambda: [c for c in feishu.sent_cards() if c["via"] == "delayed"])
    assert len(delayed) == 1 and confirmed(delayed[0]["card"])
    call = feishu.calls("POST", "/interactive/v1/card/update")[0]
    assert re.fullmatch(r"c-[0-9a-f]{32}", json.loads(call.request.body)["token"])


def test_a_parameter_error_is_shown_in_place_with_try_again(push, feishu, ctx):
    feishu.api.fault("patch", "error", status=400, code=1002002, msg="参数错误", count=None)
    value = open_form(push, feishu, ctx)
    body = push.card(value, VALID).get_json()
    assert len(feishu.patches()) == 1
    log_id = feishu.api.calls("patch")[0]["log_id"]
    advice = ("飞书没有接受这些值，面评没有任何改动。请检查填写的内容后重试。"
              f"如果面评 ID {AID} 有误，飞书也会这样回答，请一并检查 ID。",
              "Feishu did not accept these values and nothing was changed. Check the values and try again. "
              f"Feishu answers the same when it does not know assessment {AID}; check the id too.")
    failed = body["card"]["data"]
    assert shown(failed).splitlines() == ["The assessment was not saved", "The assessment was not saved", AID,
                                          advice[1], "Error code: 1002002", "Message: 参数错误", f"Log ID: {log_id}",
                                          "Try again"]
    assert shown(failed, "zh_cn").splitlines() == ["面评未能保存", "面评未能保存", AID, advice[0], "错误码：1002002",
                                                   "信息：参数错误", f"日志 ID：{log_id}", "重试"]
    # Try again opens the form with the values that failed (the failed job's, number 2)
    assert [n.get("behaviors") for n in nodes(failed) if n.get("tag") == "button"] == [
        [{"type": "callback", "value": {"a": "form", "id": AID, "job": 2}}]]
    assert body["toast"] == {"type": "error", "content": "保存失败",
                             "i18n": {"zh_cn": "保存失败", "en_us": "Could not save"}}
    assert set(body) == {"toast", "card"} and body["card"]["type"] == "raw"


def test_a_system_error_answers_saving_then_the_retry_updates_the_card(push, feishu, ctx, clock):
    feishu.api.fault("patch", "error", status=500, code=1002001)
    value = open_form(push, feishu, ctx)
    response = push.card(value, VALID)
    assert response.get_json()["card"]["data"]["header"]["template"] in ("blue", "wathet")
    response.close()
    clock.advance(10)
    ctx.runner.drain()
    assert len(feishu.patches()) == 2
    delayed = [c["card"] for c in feishu.sent_cards() if c["via"] == "delayed"]
    assert len(delayed) == 1 and confirmed(delayed[0])


def test_try_again_opens_the_form_with_the_failed_values_kept(push, feishu, ctx):
    feishu.api.fault("patch", "error", status=400, code=1002002, msg="参数错误", count=None)
    value = open_form(push, feishu, ctx)
    push.card(value, VALID).close()
    reopened = push.card(OpenForm(AID, 2).encode(), {}).get_json()["card"]["data"]
    assert shown(reopened).splitlines()[:3] == ["Fill in the assessment", "Fill in the assessment", AID]
    assert shown(reopened).splitlines()[3] == (
        "The bot has no record of this assessment and cannot see what Feishu holds: submitting replaces Feishu's "
        "conclusion, dimensions and comment with what is filled in here.")
    assert filled(reopened) == VALID  # the values that failed, every one kept


def test_in_a_group_the_form_goes_to_the_person_privately(push, feishu, ctx):
    mention = [{"key": "@_user_1", "id": {"open_id": BOT}, "name": "assessbot"}]
    push.message(f"@_user_1 /assess {AID}", chat_type="group", mentions=mention, message_id="om_g")
    ctx.runner.drain()
    sent = {c["url"]: c for c in feishu.sent_cards()}
    notice = sent["/open-apis/im/v1/messages/om_g/reply"]["card"]
    assert shown(notice).splitlines()[-1] == "Sent to you in a private chat with the bot; please look there."
    assert shown(notice, "zh_cn").splitlines()[-1] == "已私聊发给你，请在与机器人的单聊中查看。"
    private = sent["/open-apis/im/v1/messages?receive_id_type=open_id"]["card"]
    assert submit_button(private)["for"] == ALICE
    assert json.loads(feishu.calls("POST", "receive_id_type")[0].request.body)["receive_id"] == ALICE





def test_a_required_dimension_already_recorded_may_be_left_empty_to_keep_it(push, feishu, ctx):
    push.message(f"/assess {AID} coding=4 design=3")
    ctx.runner.drain()
    value = open_form(push, feishu, ctx)
    entered = {k: v for k, v in VALID.items() if k != "dim_coding"}
    assert push.card(value, entered).get_json()["toast"]["type"] == "success"
    assert ctx.store.known(AID).state.dimensions["coding"] == 4
