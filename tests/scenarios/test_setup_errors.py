"""Setup errors name the right person: one table, a test per code, typed and clicked."""

from __future__ import annotations

import pytest

from bot import auth
from bot.feishu.client import FeishuError
from bot.jobs.errors import Kind, explain
from tests.support.cards import shown
from tests.support.ids import AID, ALICE

SCOPE_MSG = ("Access denied. One of the following scopes is required: [hire:external_application]. "
             "应用尚未开通所需的应用身份权限")
SETUP = "The bot is not set up to do this"


@pytest.mark.parametrize("err,kind,en", [
    (FeishuError(99991672, SCOPE_MSG, status=400), Kind.SETUP,
     "The bot is not set up to do this (the app lacks the scope hire:external_application) — ask your admin "
     "(they need to grant scope hire:external_application)."),
    (FeishuError(99991672, "Access denied", status=400), Kind.SETUP,
     "The bot is not set up to do this (the app lacks the scope hire:external_application) — ask your admin "
     "(they need to grant scope hire:external_application)."),
    (FeishuError(10014, "could not obtain a tenant token", credentials=True), Kind.SETUP,
     "The bot is not set up to do this (Feishu rejected the app's credentials (App ID / App Secret)) — ask your "
     "admin (they need to check the App ID and App Secret)."),
    (FeishuError(99991663, "Invalid access token"), Kind.SETUP,
     "The bot is not set up to do this (Feishu rejected the app's credentials (App ID / App Secret)) — ask your "
     "admin (they need to check the App ID and App Secret)."),
    (FeishuError(99991662, "app not in use"), Kind.SETUP,
     "The bot is not set up to do this (the app is disabled) — ask your admin (they need to check the app's "
     "release and availability)."),
    (FeishuError(99991673, "unauthorized app"), Kind.SETUP,
     "The bot is not set up to do this (the app is not installed or enabled in this organisation) — ask your "
     "admin (they need to check the app's release and availability)."),
    (FeishuError(99991401, "ip denied"), Kind.SETUP,
     "The bot is not set up to do this (the server's IP is not on the app's IP allowlist) — ask your admin "
     "(they need to check the app's release and availability)."),
    (FeishuError(99991679, "Unauthorized"), Kind.SETUP,
     "The bot is not set up to do this (the app is not enabled for you) — ask your admin (they need to add you "
     "to the app's availability range)."),
    (FeishuError(1002002, f"invalid parameter: external_interview_assessment_id {AID} does not exist"),
     Kind.UNKNOWN_ID, f"Feishu does not know assessment {AID}; check the id (it is shown with the external "
     "assessment in Feishu Hire)."),
    (FeishuError(99991201, "resource not find", status=404), Kind.UNKNOWN_ID,
     f"Feishu does not know assessment {AID}; check the id (it is shown with the external assessment in Feishu "
     "Hire)."),
    (FeishuError(1002002, "参数错误"), Kind.VALUES,
     "Feishu did not accept these values and nothing was changed. Check the values and try again."),
    (FeishuError(1002001, "系统错误", status=500), Kind.TRANSIENT,
     "Feishu could not save it just now. Your values are kept; try again."),
    (None, Kind.TRANSIENT, "Feishu could not save it just now. Your values are kept; try again."),
])
def test_each_code_is_explained_to_the_right_person(err, kind, en):
    said = explain(err, AID)
    assert (said.kind, said.en) == (kind, en)
    assert said.retry_helps == (kind in (Kind.VALUES, Kind.TRANSIENT))
    assert said.zh and not said.zh.isascii()


def test_the_zh_words_for_a_missing_scope_name_the_scope_and_the_admin():
    said = explain(FeishuError(99991672, SCOPE_MSG), AID)
    assert said.zh == ("机器人尚未配置好，无法完成此操作（机器人缺少权限 hire:external_application）。"
                       "请联系管理员开通权限 hire:external_application。")


def test_a_parameter_error_on_an_id_never_written_also_asks_to_check_the_id():
    said = explain(FeishuError(1002002, "参数错误"), AID, written_before=False)
    assert said.kind is Kind.VALUES and said.en.endswith(f"when it does not know assessment {AID}; check the id too.")


def _no_scope(feishu):
    feishu.api.fault("patch", "no_scope")


def _buttons(card: dict) -> list:
    return [e for e in card["body"]["elements"] if e.get("tag") == "button"]


def test_typed_missing_scope_asks_the_admin_without_try_again(push, feishu, ctx):
    _no_scope(feishu)
    push.message(f"/assess {AID} pass coding=4")
    ctx.runner.drain()
    card = feishu.sent_cards()[-1]["card"]
    assert SETUP in shown(card) and "机器人尚未配置好" in shown(card, "zh_cn")
    log_id = feishu.api.calls("patch")[0]["log_id"]
    assert "Error code: 99991672" in shown(card) and f"Log ID: {log_id}" in shown(card)
    assert _buttons(card) == []


def test_clicked_missing_scope_asks_the_admin_without_try_again(push, feishu, ctx):
    _no_scope(feishu)
    value = auth.form_value(ctx.settings, AID, ALICE, "nonce00000001")
    body = push.card(value, {"conclusion": "2", "dim_coding": "4", "dim_design": "3"}).get_json()
    card = body["card"]["data"]
    assert SETUP in shown(card) and _buttons(card) == []


def test_an_unknown_id_says_feishu_does_not_know_it(push, feishu, ctx):
    feishu.api.auto_create, feishu.expect_refused = False, True  # Feishu holds no assessment {AID}
    push.message(f"/面评 {AID} 通过")
    ctx.runner.drain()
    card = feishu.sent_cards()[-1]["card"]
    assert f"飞书不认识面评 {AID}，请检查 ID" in shown(card, "zh_cn")
    assert f"Feishu does not know assessment {AID}; check the id" in shown(card) and _buttons(card) == []


def test_a_parameter_error_keeps_the_values_for_try_again(push, feishu, ctx):
    feishu.api.fault("patch", "error", status=400, code=1002002, msg="参数错误", count=None)
    push.message(f"/assess {AID} pass coding=4")
    ctx.runner.drain()
    card = feishu.sent_cards()[-1]["card"]
    assert "Feishu did not accept these values" in shown(card)
    [retry] = _buttons(card)
    assert retry["behaviors"][0]["value"]["id"] == AID
