"""The card JSON 2.0 checker: accepts the documented samples, rejects what Feishu would refuse."""

from __future__ import annotations

import copy

import pytest

from bot.sandbox.cardcheck import count_components, problems
from cards import limits
from cards.elements import size

# Verbatim: the `card.data` of the raw-card callback answer, from "处理卡片回调"
# https://open.feishu.cn/document/feishu-cards/card-callback-communication
CALLBACK_ANSWER_CARD = {
    "schema": "2.0",
    "config": {
        "update_multi": True,
        "style": {
            "text_size": {
                "normal_v2": {
                    "default": "normal",
                    "pc": "normal",
                    "mobile": "heading"
                }
            }
        }
    },
    "body": {
        "direction": "vertical",
        "padding": "12px 12px 12px 12px",
        "elements": [
            {
                "tag": "div",
                "text": {
                    "tag": "plain_text",
                    "content": "示例文本",
                    "text_size": "normal_v2",
                    "text_align": "left",
                    "text_color": "default"
                },
                "margin": "0px 0px 0px 0px"
            }
        ]
    },
    "header": {
        "title": {
            "tag": "plain_text",
            "content": "示例标题"
        },
        "subtitle": {
            "tag": "plain_text",
            "content": "示例文本"
        },
        "template": "blue",
        "padding": "12px 12px 12px 12px"
    }
}

# Verbatim: the `card` of the delayed-update request example
# https://open.feishu.cn/document/server-docs/im-v1/message-card/delay-update-message-card
DELAYED_UPDATE_CARD = {
    "schema": "2.0",
    "config": {
        "update_multi": True
    },
    "body": {
        "direction": "vertical",
        "padding": "12px 12px 12px 12px",
        "elements": [
            {
                "tag": "div",
                "text": {
                    "tag": "plain_text",
                    "content": "JSON 2.0 示例文本",
                    "text_size": "normal_v2",
                    "text_align": "left",
                    "text_color": "default"
                },
                "margin": "0px 0px 0px 0px"
            }
        ]
    },
    "header": {
        "title": {
            "tag": "plain_text",
            "content": "JSON 2.0 示例标题"
        },
        "subtitle": {
            "tag": "plain_text",
            "content": ""
        },
        "template": "blue",
        "padding": "12px 12px 12px 12px"
    }
}


def form_card() -> dict:
    """A small valid form: one input, a select, submit and reset buttons."""
    return {
        "schema": "2.0",
        "config": {"update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": "表单"}, "template": "blue"},
        "body": {"elements": [
            {"tag": "markdown", "content": "**说明**"},
            {"tag": "form", "name": "f", "elements": [
                {"tag": "input", "name": "reason", "required": True, "default_value": "x"},
                {"tag": "select_static", "name": "pick", "initial_option": "2", "options": [
                    {"text": {"tag": "plain_text", "content": "一"}, "value": "1"},
                    {"text": {"tag": "plain_text", "content": "二", "i18n_content": {"en_us": "two"}}, "value": "2"},
                ]},
                {"tag": "column_set", "columns": [
                    {"tag": "column", "width": "auto", "elements": [
                        {"tag": "button", "name": "ok", "type": "primary", "form_action_type": "submit",
                         "text": {"tag": "plain_text", "content": "提交"},
                         "behaviors": [{"type": "callback", "value": {"k": "v"}}]},
                    ]},
                    {"tag": "column", "width": "auto", "elements": [
                        {"tag": "button", "name": "no", "form_action_type": "reset",
                         "text": {"tag": "plain_text", "content": "重置"}},
                    ]},
                ]},
            ]},
        ]},
    }


def controls(card: dict) -> list[dict]:
    return card["body"]["elements"][1]["elements"]


@pytest.mark.parametrize("sample", [CALLBACK_ANSWER_CARD, DELAYED_UPDATE_CARD, form_card()])
def test_it_accepts_documented_cards(sample: dict) -> None:
    """It finds nothing wrong with the official samples and a well-formed form."""
    assert problems(sample) == []


def test_it_reports_an_unknown_property_with_its_path() -> None:
    """JSON 2.0 refuses unknown properties, so the checker names each one and where it is."""
    card = form_card()
    controls(card)[0]["foo"] = 1
    card["header"]["colour"] = "red"
    assert problems(card) == [
        "header: unknown property 'colour'",
        "body.elements[1].elements[0]: unknown property 'foo'",
    ]


def test_it_requires_a_name_on_every_form_control() -> None:
    """A control without a name makes the client fail with 200530."""
    card = form_card()
    del controls(card)[0]["name"]
    assert problems(card) == ["body.elements[1].elements[0].name: missing (every form control needs a unique name)"]


def test_it_rejects_duplicate_names() -> None:
    """Names are unique across the whole card."""
    card = form_card()
    controls(card)[1]["name"] = "reason"
    assert problems(card) == ["body.elements[1].elements[1].name: 'reason' is used twice"]


def test_it_rejects_schema_1() -> None:
    """Only JSON 2.0 cards are built; a 2.0 card cannot become 1.0."""
    card = form_card()
    card["schema"] = "1.0"
    assert problems(card) == ["schema: must be \"2.0\", not '1.0'"]


def test_it_rejects_a_string_callback_value() -> None:
    """The SDK cannot read a string callback value."""
    card = form_card()
    button = controls(card)[2]["columns"][0]["elements"][0]
    button["behaviors"] = [{"type": "callback", "value": "submit"}]
    assert problems(card) == [
        "body.elements[1].elements[2].columns[0].elements[0].behaviors[0].value: a callback value must be an object",
    ]


def test_it_rejects_a_card_whose_request_body_is_over_30_kb() -> None:
    """30 KB is the request body, the card inside it as an escaped string: 20 KB of quotes and newlines is too much."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"][0]["text"]["content"] = '"\n' * 5000
    assert size(card) < 30_000 / 1.4
    assert problems(card) == [f"card: a {limits.wire_bytes(card)}-byte request body, more than 30000"]
    assert problems(card, wire=False) == []


def test_it_rejects_more_than_200_elements_counting_text_elements() -> None:
    """At most 200 elements per card, nested ones and plain_text parts included."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"] = [{"tag": "column_set", "columns": [
        {"tag": "column", "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "x"}}] * 49},
        {"tag": "column", "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": "x"}}] * 49},
    ]}]
    assert count_components(card) == 101  # components alone would pass
    assert limits.elements(card) == 201  # with the header's title, as Feishu counts
    assert problems(card) == ["card: 201 elements, more than 200"]


@pytest.mark.parametrize("element_id", ["1abc", "a-b", "a" * 21, ""])
def test_it_rejects_a_bad_element_id(element_id: str) -> None:
    """element_id: a letter, then letters, digits and _, at most 20 characters."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"][0]["element_id"] = element_id
    assert problems(card) == [
        f"body.elements[0].element_id: {element_id!r}: letters, digits and _, a letter first, at most 20",
    ]


def test_it_rejects_a_repeated_element_id() -> None:
    """element_id is unique within the card."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"] = [{"tag": "hr", "element_id": "line"}, {"tag": "hr", "element_id": "line"}]
    assert problems(card) == ["body.elements[1].element_id: 'line' is used twice"]


def test_it_rejects_an_undocumented_header_colour() -> None:
    """Header templates come from a fixed list."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["header"]["template"] = "pink"
    assert problems(card) == ["header.template: 'pink' is not a documented colour"]


def test_it_requires_update_multi() -> None:
    """JSON 2.0 cards are shared cards only."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    del card["config"]
    assert problems(card) == ["config.update_multi: must be true (JSON 2.0 cards are shared)"]


def test_it_rejects_forms_anywhere_but_the_root() -> None:
    """A form sits directly in body.elements and holds no other form."""
    inner = form_card()["body"]["elements"][1]
    card = form_card()
    card["body"]["elements"] = [{"tag": "column_set", "columns": [{"tag": "column", "elements": [inner]}]}]
    assert problems(card) == ["body.elements[0].columns[0].elements[0]: a form must sit directly in body.elements"]
    nested = form_card()
    controls(nested).append({"tag": "form", "name": "g", "elements": [
        {"tag": "button", "name": "ok2", "form_action_type": "submit", "text": {"tag": "plain_text", "content": "OK"}},
    ]})
    assert problems(nested) == ["body.elements[1].elements[3]: a form cannot hold another form"]


def test_it_requires_a_submit_button_in_a_form() -> None:
    """Without a submit button the form can never send anything."""
    card = form_card()
    del controls(card)[2]["columns"][0]
    assert problems(card) == ["body.elements[1]: a form needs a button with form_action_type \"submit\""]


def test_it_checks_select_options() -> None:
    """Option values are unique and the initial option is one of them."""
    card = form_card()
    select = controls(card)[1]
    select["options"][1]["value"] = "1"
    assert problems(card) == [
        "body.elements[1].elements[1].options: values used more than once: 1",
        "body.elements[1].elements[1].initial_option: '2' is not an option value",
    ]


def test_it_rejects_undocumented_locales_and_components() -> None:
    """i18n keys come from the documented locales; components outside the known set are reported."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"][0]["text"]["i18n_content"] = {"zh_cn": "中", "klingon": "x"}
    card["body"]["elements"].append({"tag": "person", "user_id": "ou_x"})
    assert problems(card) == [
        "body.elements[0].text.i18n_content: unknown locale 'klingon'",
        "body.elements[1]: unsupported component 'person'",
    ]


def test_it_rejects_controls_that_only_work_in_a_form_outside_one() -> None:
    """`required` and multi selects belong in a form."""
    card = copy.deepcopy(DELAYED_UPDATE_CARD)
    card["body"]["elements"] = [
        {"tag": "input", "required": True},
        {"tag": "multi_select_static", "name": "m", "options": []},
    ]
    assert problems(card) == [
        "body.elements[0].required: only allowed inside a form",
        "body.elements[1]: multi_select_static only works inside a form",
    ]


def test_it_rejects_a_prefilled_input_longer_than_its_limit() -> None:
    """An input holds at most 1,000 characters; a longer default value cannot be shown."""
    card = form_card()
    controls(card)[0]["default_value"] = "x" * 1001
    assert problems(card) == [
        "body.elements[1].elements[0].default_value: 1001 characters, more than max_length 1000",
    ]
