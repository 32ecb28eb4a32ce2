"""Card builders: exact cards for a small rubric, and every card valid and small enough for any rubric."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.assessment import Assessment, Conclusion
from bot.rubric import Rubric, load, parse
from bot.sandbox.cardcheck import count_components, problems
from cards.confirmation import confirmation_card, saving_card
from cards.elements import toast, user_text, when

ROOT = Path(__file__).parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2024, 5, 1, 14, 30, tzinfo=SHANGHAI)
AID = "6930815272790114324"

SMALL = parse({"dimensions": [
    {"key": "coding", "title": "编码能力", "title_en": "Coding", "type": "score", "min": 1, "max": 5,
     "required": True, "description": "代码质量"},
    {"key": "level", "title": "建议职级", "title_en": "Suggested level", "type": "single",
     "options": ["P5", "P6", "P7"]},
    {"key": "tags", "title": "亮点", "type": "multi", "options": ["算法", "架构", "沟通"]},
    {"key": "notes", "title": "面试记录", "title_en": "Notes", "type": "text"},
]})

STATE = Assessment(conclusion=Conclusion.PASS,
                   dimensions={"coding": 4, "tags": ("算法", "架构"), "notes": "第一行\n第二行"},
                   content="思路清晰", username="王五")


def size(card: dict) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def plain(zh: str, en: str | None = None, **style: str) -> dict:
    obj: dict = {"tag": "plain_text", "content": zh}
    if en is not None:
        obj["i18n_content"] = {"zh_cn": zh, "en_us": en}
    return {**obj, **style}


def div(zh: str, en: str | None = None, **style: str) -> dict:
    return {"tag": "div", "text": plain(zh, en, **style)}


def grey(zh: str, en: str | None = None) -> dict:
    return div(zh, en, text_size="notation", text_color="grey")


def summary(zh: str, en: str) -> dict:
    return {"update_multi": True, "summary": {"content": zh, "i18n_content": {"zh_cn": zh, "en_us": en}}}


# --- elements -----------------------------------------------------------------------------------------------

def test_user_text_removes_control_and_bidi_characters_but_keeps_lines_and_emoji() -> None:
    """Typed text keeps its newlines, tabs and emoji sequences; loses NUL, bidi overrides and lone surrogates."""
    assert user_text("a\x00b\u202ec\u2066d\r\n\te\u200b👩\u200d💻\ud800") == "abcd\n\te👩\u200d💻\ufffd"


def test_user_text_cuts_long_text_with_an_ellipsis() -> None:
    """Long text is cut to the limit, the last character an ellipsis."""
    assert user_text("x" * 50_000, 10) == "x" * 9 + "…"
    assert user_text("short", 10) == "short"
    assert user_text(" a \n b ", 10, one_line=True) == "a b"


def test_toast_is_bilingual() -> None:
    """A toast carries Chinese content and both languages."""
    assert toast("error", "保存失败", "Could not save") == {
        "type": "error", "content": "保存失败", "i18n": {"zh_cn": "保存失败", "en_us": "Could not save"},
    }


@pytest.mark.parametrize(("at", "shown"), [
    (AT, "2024-05-01 14:30 CST (UTC+08:00)"),
    (datetime(2024, 5, 1, 6, 30, tzinfo=UTC), "2024-05-01 06:30 UTC"),
    (datetime(2024, 5, 1, 6, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))), "2024-05-01 06:30 (UTC-05:30)"),
    (datetime(2024, 5, 1, 6, 30), "2024-05-01 06:30"),
])
def test_times_show_their_zone(at: datetime, shown: str) -> None:
    """Times read `YYYY-MM-DD HH:MM` with the zone name and offset."""
    assert when(at) == shown


# --- confirmation ------------------------------------------------------------------------------------------

def test_confirmation_card_shows_every_written_value() -> None:
    """The confirmation lists the conclusion, each dimension with a value, the comment, who and when."""
    assert confirmation_card(AID, STATE, SMALL, by="张三", at=AT, edit_value={"do": "edit", "id": AID}) == {
        "schema": "2.0",
        "config": summary("外部面评已更新", "Assessment updated"),
        "header": {
            "title": plain("外部面评已更新", "Assessment updated"),
            "template": "green",
            "subtitle": plain(AID),
        },
        "body": {"elements": [
            {"tag": "markdown", "content": "**结论：通过**",
             "i18n_content": {"zh_cn": "**结论：通过**", "en_us": "**Conclusion: Pass**"}},
            div("编码能力：4 / 5", "Coding: 4 / 5"),
            div("亮点：算法、架构", "tags: 算法, 架构"),
            grey("面试记录", "Notes"),
            div("第一行\n第二行"),
            grey("综合记录", "Overall comment"),
            div("思路清晰"),
            {"tag": "hr"},
            grey("面试官：王五\n提交人：张三 · 2024-05-01 14:30 CST (UTC+08:00)\n面评 ID：6930815272790114324",
                 "Interviewer: 王五\nSubmitted by 张三 · 2024-05-01 14:30 CST (UTC+08:00)\n"
                 "Assessment ID: 6930815272790114324"),
            {"tag": "button", "text": plain("修改", "Edit"), "type": "default",
             "behaviors": [{"type": "callback", "value": {"do": "edit", "id": AID}}]},
        ]},
    }


@pytest.mark.parametrize(("conclusion", "template"), [
    (Conclusion.PASS, "green"), (Conclusion.FAIL, "red"), (Conclusion.PENDING, "orange"), (None, "grey"),
])
def test_confirmation_header_is_coloured_by_the_conclusion(conclusion: Conclusion | None, template: str) -> None:
    """Green pass, red fail, orange pending, grey when no conclusion is known."""
    card = confirmation_card(AID, Assessment(conclusion=conclusion), SMALL, by="张三", at=AT, edit_value=None)
    assert card["header"]["template"] == template
    assert problems(card) == []


def test_confirmation_without_an_edit_value_has_no_button() -> None:
    """No edit value, no button; an empty assessment still says its conclusion is not given."""
    card = confirmation_card(AID, Assessment(), SMALL, by="张三", at=AT, edit_value=None)
    assert card["body"]["elements"] == [
        {"tag": "markdown", "content": "**结论：未填写**",
         "i18n_content": {"zh_cn": "**结论：未填写**", "en_us": "**Conclusion: not given**"}},
        {"tag": "hr"},
        grey("提交人：张三 · 2024-05-01 14:30 CST (UTC+08:00)\n面评 ID：6930815272790114324",
             "Submitted by 张三 · 2024-05-01 14:30 CST (UTC+08:00)\nAssessment ID: 6930815272790114324"),
    ]


def test_saving_card_shows_the_same_content_without_buttons() -> None:
    """While saving, the card shows what is being written under a blue "Saving…" header."""
    saving = saving_card(AID, STATE, SMALL, by="张三", at=AT)
    done = confirmation_card(AID, STATE, SMALL, by="张三", at=AT, edit_value=None)
    assert saving["header"] == {"title": plain("正在保存…", "Saving…"), "template": "wathet", "subtitle": plain(AID)}
    assert saving["body"] == done["body"]
    assert problems(saving) == []


def huge_rubric() -> Rubric:
    """30 dimensions of every type, long titles and descriptions, some score ranges too wide for a select."""
    dims = []
    for i in range(30):
        entry: dict = {"key": f"d{i}", "title": f"维度{i}" + "很长的标题" * 20, "title_en": f"Dimension {i} " * 10,
                       "description": "说明" * 300, "required": i % 3 == 0}
        kind = ("score", "single", "multi", "text", "score")[i % 5]
        entry["type"] = kind
        if kind == "score":
            entry.update(min=0, max=100 if i % 10 == 0 else 10)
        elif kind in ("single", "multi"):
            entry["options"] = [f"选项{j}" + "长" * 30 for j in range(8)]
        dims.append(entry)
    return parse({"dimensions": dims})


def huge_state(rubric: Rubric) -> Assessment:
    values: dict = {}
    for dim in rubric.dimensions:
        values[dim.key] = {"score": dim.max, "single": dim.options[:1] and dim.options[0],
                           "multi": dim.options, "text": "评" * 50_000}[dim.type.value]
    return Assessment(conclusion=Conclusion.FAIL, dimensions=values, content="记" * 50_000, username="名" * 5000)


def test_confirmation_for_a_huge_rubric_stays_valid_and_small() -> None:
    """30 dimensions filled with 50 KB texts still give a valid card under 30 KB and 200 components."""
    rubric = huge_rubric()
    for card in (confirmation_card(AID, huge_state(rubric), rubric, by="张" * 500, at=AT, edit_value={"x": 1}),
                 saving_card(AID, huge_state(rubric), rubric, by="张" * 500, at=AT)):
        assert problems(card) == []
        assert size(card) <= 30_000
        assert count_components(card) <= 200


def test_default_rubric_loads() -> None:
    """The shipped rubric is the one the form tests use."""
    assert [d.key for d in load(ROOT / "config" / "rubric.toml").dimensions] == [
        "coding", "design", "communication", "level", "strengths", "notes",
    ]
