"""Card limits as Feishu counts them: request bodies measured as sent, elements with text, big rubrics accepted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from types import SimpleNamespace

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import CreateMessageRequestBody, PatchMessageRequestBody, ReplyMessageRequestBody

from bot.assessment import Assessment, Conclusion, RawFields
from bot.feishu.client import Feishu
from bot.feishu.connection import TOKENS
from bot.rubric import Rubric, parse
from bot.sandbox import cardcheck
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi import limits as feishu_limits
from bot.values import FieldError, check_value
from cards import limits
from cards.confirmation import confirmation_card, saving_card
from cards.elements import SHORTENED, card, fit, header, note, text, too_big_card
from cards.errors import invalid_card, problem_card, write_failed_card
from cards.form import form_card, form_values_to_raw
from cards.help import help_card
from cards.history import HistoryEntry, history_card
from tests.support.ids import AID, SANDBOX_APP_ID, SANDBOX_APP_SECRET
from tests.support.rubrics import thirty_dimensions

AT = datetime(2024, 5, 1, 6, 30, tzinfo=UTC)
SUBMIT = {"do": "submit", "id": AID, "nonce": "n1"}
UUID = "u" * 50
NASTY = '他说："好"\n\\n 下一行 "quoted" \\ end\n'  # quotes, newlines and backslashes: escaped twice on the wire


def twelve_scores() -> Rubric:
    """12 score dimensions of 1–10, each with a description: one select of ten options per dimension."""
    return parse({"dimensions": [
        {"key": f"s{i}", "title": f"评分维度{i}", "title_en": f"Score {i}", "type": "score", "min": 1, "max": 10,
         "required": True, "description": "请根据候选人在本维度的表现打分：1 分最低，10 分最高，5 分为达到预期。"}
        for i in range(12)]})


RUBRICS = {"12x10": twelve_scores(), "30-dimensions": thirty_dimensions()}


def filled(rubric: Rubric) -> RawFields:
    """Every field prefilled with long values full of quotes and newlines."""
    values = {"score": "7", "single": None, "multi": None, "text": NASTY * 200}
    return RawFields(conclusion="通过", dimensions=tuple(
        (d.key, d.options if d.type.value == "multi" else d.options[0] if d.type.value == "single"
         else values[d.type.value]) for d in rubric.dimensions), content=NASTY * 1000, username=NASTY * 20)


def state(rubric: Rubric) -> Assessment:
    values = {d.key: {"score": d.max, "single": d.options[:1] and d.options[0], "multi": d.options,
                      "text": NASTY * 2000}[d.type.value] for d in rubric.dimensions}
    return Assessment(conclusion=Conclusion.PASS, dimensions=values, content=NASTY * 5000, username=NASTY * 50)


def errors(rubric: Rubric) -> list[FieldError]:
    return [FieldError(field=d.key, zh=f"“{NASTY * 20}”不对", en=f"'{NASTY * 20}' is wrong", suggestion=NASTY)
            for d in rubric.dimensions] + [FieldError(field=f"w{i}", zh=NASTY, en=NASTY) for i in range(40)]


@cache
def every_card(rubric: Rubric) -> dict[str, dict]:
    """Every card the bot builds for this rubric, at its biggest."""
    history = [HistoryEntry(at=AT + timedelta(minutes=i), actor=NASTY * 10, action="write", result="failed",
                            changes=((NASTY * 100, NASTY * 100),) * 5, log_id=NASTY) for i in range(45)]
    help_entries = [SimpleNamespace(name="assess", aliases=("a", "面评"), usage=NASTY * 10, summary_zh=NASTY * 10,
                                    summary_en=NASTY * 10, examples=(NASTY * 10,) * 3)]
    return {
        "form": form_card(AID, rubric, RawFields(), submit_value=SUBMIT),
        "form filled": form_card(AID, rubric, filled(rubric), submit_value=SUBMIT, interviewer_hint=NASTY),
        "form with errors": form_card(AID, rubric, filled(rubric), submit_value=SUBMIT, errors=errors(rubric)),
        "confirmation": confirmation_card(AID, state(rubric), rubric, by=NASTY * 10, at=AT, edit_value=SUBMIT),
        "saving": saving_card(AID, state(rubric), rubric, by=NASTY * 10, at=AT),
        "history": history_card(AID, history, owner=NASTY),
        "invalid": invalid_card(AID, errors(rubric), usage_zh=NASTY * 30, usage_en=NASTY * 30),
        "problem": problem_card(NASTY * 100, NASTY * 100, usage_zh=NASTY * 30, usage_en=NASTY * 30,
                                suggestion=NASTY),
        "write failed": write_failed_card(AID, code=230025, msg=NASTY * 100, log_id=NASTY, retryable=True,
                                          retry_value=SUBMIT),
        "help": help_card(help_entries, rubric=rubric),
    }


CASES = [(r, name) for r in RUBRICS for name in every_card(RUBRICS[r])]


@pytest.mark.parametrize(("rubric", "name"), CASES)
def test_every_card_for_big_rubrics_is_within_both_limits_on_the_wire(rubric: str, name: str):
    """≤ 30,000-byte request body however it is sent, ≤ 200 elements counting text, and otherwise valid."""
    built = every_card(RUBRICS[rubric])[name]
    assert limits.wire_bytes(built) <= limits.MAX_BODY_BYTES
    assert limits.elements(built) <= limits.MAX_ELEMENTS
    assert cardcheck.problems(built) == []


def test_the_bots_limits_agree_with_the_local_open_apis_own():
    """The local Open API judges what it receives with its own constants and counting, taken from Feishu's pages
    (bot/sandbox/openapi/limits.py): the bot's budget must be the same numbers, counted the same way."""
    assert (limits.MAX_BODY_BYTES, limits.MAX_ELEMENTS, limits.UUID_CHARS) == (
        feishu_limits.CARD_BODY_BYTES, feishu_limits.CARD_ELEMENTS, feishu_limits.UUID_CHARS)
    for rubric in RUBRICS.values():
        for built in every_card(rubric).values():
            assert limits.elements(built) == feishu_limits.elements(built)
            for body in (limits.send_body(built, "ou_x", UUID), limits.reply_body(built, UUID),
                         limits.update_body(built), limits.delayed_update_body(built, "c-token")):
                assert limits.body_bytes(body) == feishu_limits.body_bytes(body)


def test_the_bodies_measured_are_the_bytes_lark_oapi_sends():
    """send/reply/update bodies: the same length as the SDK's own serialization of its request bodies."""
    for built in every_card(RUBRICS["30-dimensions"]).values():
        content = json.dumps(built, ensure_ascii=False)
        sdk = {
            "send": CreateMessageRequestBody.builder().receive_id("ou_x").msg_type("interactive").content(content)
            .uuid(UUID).build(),
            "reply": ReplyMessageRequestBody.builder().msg_type("interactive").content(content).uuid(UUID).build(),
            "update": PatchMessageRequestBody.builder().content(content).build(),
        }
        ours = {"send": limits.send_body(built, "ou_x", UUID), "reply": limits.reply_body(built, UUID),
                "update": limits.update_body(built)}
        for way, body in sdk.items():
            assert limits.body_bytes(ours[way]) == len(lark.JSON.marshal(body).encode("utf-8")), way
            assert json.loads(lark.JSON.marshal(body)) == ours[way]


def test_a_card_full_of_quotes_and_newlines_costs_far_more_on_the_wire():
    """Each quote and newline takes 3 bytes or more once the card is a string inside the body: measured."""
    built = card(header("标题", "Title", "blue"), [text(NASTY * 300)])
    raw = len(json.dumps(built, ensure_ascii=False).encode())
    assert limits.body_bytes(limits.reply_body(built, UUID)) > raw * 1.25


def test_elements_count_text_elements_as_feishu_does():
    """A div with a bilingual text is two elements; a select's options count one each."""
    assert limits.elements(text("中", "en")) == 2
    select = {"tag": "select_static", "placeholder": {"tag": "plain_text", "content": "x"},
              "options": [{"text": {"tag": "plain_text", "content": str(i)}, "value": str(i)} for i in range(10)]}
    assert limits.elements(select) == 12


def test_the_twelve_score_form_keeps_its_selects_and_says_it_was_shortened():
    """12 × (label, description, select of 10) is over 200 elements: descriptions join the labels instead."""
    built = form_card(AID, RUBRICS["12x10"], RawFields(), submit_value=SUBMIT)
    assert built["body"]["elements"][0] == note(*SHORTENED)
    inside = built["body"]["elements"][1]["elements"]
    assert [e["tag"] for e in inside].count("select_static") == 13  # the conclusion and twelve scores
    label = next(e for e in inside if e.get("text", {}).get("content", "").startswith("评分维度0"))
    assert label["text"]["content"] == "评分维度0 *\n" + RUBRICS["12x10"].dimensions[0].description


def test_a_form_too_big_for_any_card_says_to_type_the_values_instead():
    """80 dimensions of 30 options: no level fits 200 elements, so the card says what to do."""
    rubric = parse({"dimensions": [{"key": f"m{i}", "title": f"多选{i}", "type": "multi",
                                    "options": [f"o{j}" for j in range(30)]} for i in range(80)]})
    built = form_card(AID, rubric, RawFields(), submit_value=SUBMIT)
    assert limits.card_problems(built) == [] and cardcheck.problems(built) == []
    assert built["body"]["elements"] == [text(
        f"评分表太大，无法在一张飞书卡片中显示表单。请用文字命令填写，例如：/assess {AID} 维度=值 …",
        f"The rubric is too large for a Feishu card to show the form. Type the values instead, "
        f"e.g. /assess {AID} dimension=value …")]


@pytest.fixture
def feishu():
    """The bot's own Feishu client, talking to the local Open API."""
    with serve(api=FakeOpenAPI()) as running:
        running.api.record_user_message("om_user1", "oc_chat1", "ou_alice", "/assess 1")
        client = Feishu(SANDBOX_APP_ID, SANDBOX_APP_SECRET, running.url, timeout=5, log_level="ERROR")
        TOKENS.drop(TOKENS.generation())  # a token from another test's local Open API means nothing here
        yield running, client
    TOKENS.drop(TOKENS.generation())


@pytest.mark.parametrize("rubric", list(RUBRICS))
def test_the_local_open_api_accepts_every_card_every_way_the_bot_sends_it(feishu, rubric: str):
    """Reply, send, update and delayed update, through the bot's own client: no 230025, no element error."""
    running, client = feishu
    for name, built in every_card(RUBRICS[rubric]).items():
        message_id = client.reply_card("om_user1", built, f"{rubric}-{name}").data["message_id"]
        client.send_card("ou_alice", built, f"send-{rubric}-{name}")
        client.update_card(message_id, built)
        client.delayed_update(running.api.issue_callback_token(message_id), built)


def test_a_form_whose_choices_are_typed_reads_back_the_same_choices():
    """When selects became inputs to fit, submitting the form unchanged gives back what was entered."""
    rubric = RUBRICS["30-dimensions"]
    built = every_card(rubric)["form filled"]
    inside = built["body"]["elements"][1]["elements"]
    assert not any(e["tag"] in ("select_static", "multi_select_static") and e["name"].startswith("dim_")
                   for e in inside)
    submitted = {e["name"]: e.get("default_value", e.get("initial_option")) for e in inside
                 if e.get("name") and e.get("default_value", e.get("initial_option")) is not None}
    read = dict(form_values_to_raw(submitted, rubric).dimensions)
    for dim in rubric.dimensions:
        if dim.type.value in ("single", "multi"):
            assert check_value(dim, read[dim.key]) == check_value(dim, dict(filled(rubric).dimensions)[dim.key])


def test_fit_returns_the_fullest_level_that_fits_and_marks_a_shortened_one():
    head = header("标题", "Title", "blue", AID)
    levels = [card(head, [text("x" * 40_000)]), card(head, [text("y" * 100)])]
    assert fit(lambda level: levels[level], 2) == card(head, [note(*SHORTENED), text("y" * 100)])
    assert fit(lambda level: levels[1], 2) == levels[1]


def test_fit_never_returns_a_card_over_the_limits():
    """No level fits: the fallback if it fits, else the same header and a line saying the card is too big."""
    head = header("标题", "Title", "blue", AID)
    huge = card(head, [text("x")] * 150)
    assert fit(lambda level: huge, 3, fallback=lambda: card(head, [text("用命令", "Use a command")])) == \
        card(head, [text("用命令", "Use a command")])
    assert fit(lambda level: huge, 3, fallback=lambda: huge) == too_big_card(head) == \
        card(head, [text("这张卡片的内容超出了飞书卡片的大小限制，无法显示。",
                         "This card holds more than a Feishu card can show.")])
