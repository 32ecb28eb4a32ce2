"""Card builders: exact cards for a small rubric, and every card valid and small enough for any rubric."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.assessment import Assessment, Conclusion, FieldError, InvalidFields, RawFields, validate
from bot.rubric import Rubric, load, parse
from bot.sandbox.cardcheck import count_components, problems
from cards.confirmation import confirmation_card, saving_card
from cards.elements import toast, user_text, when
from cards.form import form_card, form_values_to_raw

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
            entry["options"] = [f"选项{j}" + "长" * 6 for j in range(8)]
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


# --- form --------------------------------------------------------------------------------------------------

DEFAULT = load(ROOT / "config" / "rubric.toml")
SUBMIT = {"do": "submit", "id": AID, "nonce": "n1"}


def form_elements(card: dict) -> list[dict]:
    """The elements inside the form container, buttons taken out of their columns."""
    forms = [e for e in card["body"]["elements"] if e["tag"] == "form"]
    assert len(forms) == 1 and forms[0]["name"] == "assess_form"
    flat = []
    for element in forms[0]["elements"]:
        if element["tag"] == "column_set":
            flat += [c["elements"][0] for c in element["columns"]]
        else:
            flat.append(element)
    return flat


def controls(card: dict) -> dict[str, dict]:
    return {e["name"]: e for e in form_elements(card) if "name" in e}


def layout(card: dict) -> list[str]:
    """Each form element in order: a control's name, or the text a line shows."""
    return [e["name"] if "name" in e else e["text"]["content"] for e in form_elements(card)]


def submitted(card: dict) -> dict:
    """What Feishu would send if the form were submitted untouched: every prefilled value."""
    value: dict = {}
    for name, control in controls(card).items():
        if control["tag"] == "select_static" and "initial_option" in control:
            value[name] = control["initial_option"]
        elif control["tag"] == "multi_select_static" and control["selected_values"]:
            value[name] = list(control["selected_values"])
        elif control["tag"] == "input" and "default_value" in control:
            value[name] = control["default_value"]
    return value


FILLED = RawFields(conclusion="2", dimensions=(
    ("coding", "4"), ("design", "3"), ("level", "P6"), ("strengths", ("算法", "架构")), ("notes", "第一行\n第二行"),
), content="思路清晰", username="王五")


def test_form_prefills_every_control_from_what_was_entered() -> None:
    """Each control is named after its field, required where the rubric says, and holds the entered value."""
    card = form_card(AID, DEFAULT, FILLED, submit_value=SUBMIT)
    assert problems(card) == []
    assert card["header"] == {"title": plain("填写面评", "Fill in the assessment"), "template": "blue",
                              "subtitle": plain(AID)}
    got = controls(card)
    assert list(got) == ["conclusion", "dim_coding", "dim_design", "dim_communication", "dim_level",
                         "dim_strengths", "dim_notes", "content", "username", "submit", "reset"]
    assert got["conclusion"] == {
        "tag": "select_static", "name": "conclusion", "required": True, "width": "fill",
        "placeholder": plain("请选择结论", "Choose a conclusion"),
        "options": [{"text": plain("不通过", "Fail"), "value": "1"}, {"text": plain("通过", "Pass"), "value": "2"},
                    {"text": plain("待定", "Pending"), "value": "3"}],
        "initial_option": "2",
    }
    assert got["dim_coding"] == {
        "tag": "select_static", "name": "dim_coding", "required": True, "width": "fill",
        "placeholder": plain("请选择", "Choose one"),
        "options": [{"text": plain(str(n)), "value": str(n)} for n in range(1, 6)], "initial_option": "4",
    }
    assert (got["dim_design"]["initial_option"], got["dim_design"]["required"]) == ("3", True)
    assert "initial_option" not in got["dim_communication"] and got["dim_communication"]["required"] is False
    assert (got["dim_level"]["initial_option"], got["dim_level"]["required"]) == ("P6", False)
    assert got["dim_strengths"] == {
        "tag": "multi_select_static", "name": "dim_strengths", "required": False, "width": "fill",
        "placeholder": plain("请选择（可多选）", "Choose any"),
        "options": [{"text": plain(o), "value": o} for o in ("算法", "工程质量", "架构", "业务理解", "学习能力")],
        "selected_values": ["算法", "架构"],
    }
    assert got["dim_notes"] == {
        "tag": "input", "name": "dim_notes", "required": False, "width": "fill",
        "placeholder": plain("请输入", "Type here"), "max_length": 1000, "input_type": "multiline_text",
        "default_value": "第一行\n第二行",
    }
    assert (got["content"]["default_value"], got["content"]["input_type"]) == ("思路清晰", "multiline_text")
    assert (got["username"]["default_value"], got["username"]["max_length"]) == ("王五", 100)
    assert got["submit"] == {"tag": "button", "text": plain("提交", "Submit"), "type": "primary", "name": "submit",
                             "form_action_type": "submit", "behaviors": [{"type": "callback", "value": SUBMIT}]}
    assert got["reset"] == {"tag": "button", "text": plain("重置", "Reset"), "type": "default", "name": "reset",
                            "form_action_type": "reset"}


def test_form_labels_each_field_and_marks_required_ones() -> None:
    """Labels come in both languages, required ones end with " *", descriptions follow the label."""
    card = form_card(AID, DEFAULT, RawFields(), submit_value=SUBMIT)
    assert layout(card) == [
        "结论 *", "conclusion",
        "编码能力 *", "代码质量、正确性与调试能力", "dim_coding",
        "系统设计 *", "架构取舍、可扩展性与可靠性", "dim_design",
        "沟通表达", "dim_communication",
        "建议职级", "dim_level",
        "亮点", "dim_strengths",
        "面试记录", "dim_notes",
        "综合记录", "content",
        "面试官姓名", "username",
        "submit", "reset",
    ]
    labels = [e["text"] for e in form_elements(card) if e["tag"] == "div"]
    assert labels[3] == plain("系统设计 *", "System design *")
    assert "default_value" not in controls(card)["content"]


def test_form_uses_the_interviewer_hint_only_when_no_name_was_entered() -> None:
    """The person's own name is offered as the interviewer name, unless one is already known."""
    hinted = form_card(AID, DEFAULT, RawFields(), submit_value=SUBMIT, interviewer_hint="李四")
    assert controls(hinted)["username"]["default_value"] == "李四"
    kept = form_card(AID, DEFAULT, FILLED, submit_value=SUBMIT, interviewer_hint="李四")
    assert controls(kept)["username"]["default_value"] == "王五"


def test_form_accepts_conclusion_words_and_aliases() -> None:
    """A conclusion word and a dimension alias prefill the same controls as their canonical forms."""
    card = form_card(AID, DEFAULT, RawFields(conclusion="待定", dimensions=(("编码", "５"), ("职级", "p7"))),
                     submit_value=SUBMIT)
    got = controls(card)
    assert (got["conclusion"]["initial_option"], got["dim_coding"]["initial_option"],
            got["dim_level"]["initial_option"]) == ("3", "5", "P7")


WIDE = parse({"dimensions": [
    {"key": "coding", "title": "编码能力", "title_en": "Coding", "type": "score", "min": 1, "max": 5,
     "required": True},
    {"key": "percent", "title": "匹配度", "title_en": "Match", "type": "score", "min": 0, "max": 100},
    {"key": "level", "title": "建议职级", "type": "single", "options": ["P5", "P6"]},
    {"key": "tags", "title": "亮点", "type": "multi", "options": ["算法", "架构"]},
    {"key": "notes", "title": "面试记录", "type": "text", "required": True},
]})


def test_form_rerendered_with_errors_keeps_everything_entered() -> None:
    """After a failed submit every entered value is back, invalid ones too, with a red line after each field."""
    entered = RawFields(conclusion="2", dimensions=(
        ("coding", "9"), ("percent", "很多"), ("level", "P6"), ("tags", ("算法", "沟通")), ("notes", "记录"),
    ), content="综合", username="王五")
    with pytest.raises(InvalidFields) as caught:
        validate(entered, WIDE, complete=True)
    card = form_card(AID, WIDE, entered, submit_value=SUBMIT, errors=caught.value.errors)
    assert problems(card) == []
    assert card["body"]["elements"][0] == div("有 3 处需要修改，尚未保存任何内容。",
                                              "3 values need fixing; nothing has been saved yet.", text_color="red")
    assert layout(card) == [
        "结论 *", "conclusion",
        "编码能力 *", "dim_coding", "“编码能力”的分数应为 1 到 5 之间的整数，收到“9”",
        "匹配度", "dim_percent", "“匹配度”的分数应为 0 到 100 之间的整数，收到“很多”",
        "建议职级", "dim_level",
        "亮点", "dim_tags", "“亮点”没有选项 沟通；可选：算法、架构",
        "面试记录 *", "dim_notes",
        "综合记录", "content",
        "面试官姓名", "username",
        "submit", "reset",
    ]
    got = controls(card)
    assert "initial_option" not in got["dim_coding"]  # 9 is not an option; the red line says what was entered
    assert got["dim_percent"]["default_value"] == "很多"
    assert got["dim_percent"]["placeholder"] == plain("0 到 100 的整数", "A whole number from 0 to 100")
    assert got["dim_level"]["initial_option"] == "P6"
    assert got["dim_tags"]["selected_values"] == ["算法"]
    assert (got["dim_notes"]["default_value"], got["dim_notes"]["required"]) == ("记录", True)
    assert (got["content"]["default_value"], got["username"]["default_value"]) == ("综合", "王五")
    red = [e["text"] for e in form_elements(card) if e["tag"] == "div" and e["text"].get("text_color") == "red"]
    assert red[0] == plain("“编码能力”的分数应为 1 到 5 之间的整数，收到“9”",
                           "'Coding' takes a whole number from 1 to 5, not '9'", text_size="notation", text_color="red")


def test_form_lists_errors_without_a_field_at_the_top_with_suggestions() -> None:
    """A mistyped dimension name has no control, so it is listed under the summary line."""
    errors = [FieldError(field="codng", zh="没有名为“codng”的评价维度，是否想输入 coding？",
                         en="There is no dimension called 'codng'; did you mean coding?", suggestion="coding"),
              FieldError(field="level", zh="“建议职级”没有选项“P9”", en="'Suggested level' has no option 'P9'",
                         suggestion="P6")]
    card = form_card(AID, WIDE, RawFields(), submit_value=SUBMIT, errors=errors)
    assert problems(card) == []
    assert card["body"]["elements"][:2] == [
        div("有 2 处需要修改，尚未保存任何内容。", "2 values need fixing; nothing has been saved yet.",
            text_color="red"),
        div("没有名为“codng”的评价维度，是否想输入 coding？",
            "There is no dimension called 'codng'; did you mean coding?", text_size="notation", text_color="red"),
    ]
    after_level = layout(card)[layout(card).index("dim_level") + 1]
    assert after_level == "“建议职级”没有选项“P9”（是否想输入“P6”？）"


def test_form_values_round_trip_to_the_same_raw_fields() -> None:
    """A form prefilled from RawFields and submitted untouched gives back the same RawFields."""
    for rubric, entered in ((DEFAULT, FILLED), (WIDE, RawFields(conclusion="1", dimensions=(
            ("coding", "2"), ("percent", "87"), ("level", "P5"), ("tags", ("架构",)), ("notes", "a\nb")),
            content="c", username="u"))):
        card = form_card(AID, rubric, entered, submit_value=SUBMIT)
        assert form_values_to_raw(submitted(card), rubric) == entered


def test_form_values_to_raw_reads_a_submitted_form() -> None:
    """Strings and lists come back keyed by dimension; empty fields, unknown names and buttons are ignored."""
    form_value = {"conclusion": "3", "dim_coding": "5", "dim_percent": "", "dim_tags": ["算法", "架构"],
                  "dim_level": ["P5"], "dim_notes": "  ", "content": "好", "Input_x": "ignored", "dim_nope": "1"}
    assert form_values_to_raw(form_value, WIDE) == RawFields(
        conclusion="3", dimensions=(("coding", "5"), ("level", "P5"), ("tags", ("算法", "架构"))), content="好",
    )
    assert form_values_to_raw({}, WIDE) == RawFields()


def test_form_hides_text_too_long_to_put_back_and_says_empty_keeps_it() -> None:
    """A text longer than an input holds is not cut (that would save the cut text): empty keeps what is saved."""
    card = form_card(AID, WIDE, RawFields(dimensions=(("notes", "长" * 1500),)), submit_value=SUBMIT)
    assert problems(card) == []
    assert controls(card)["dim_notes"] == {
        "tag": "input", "name": "dim_notes", "required": False, "width": "fill",
        "placeholder": plain("内容较长（1500 字），未在此显示；留空则保持已保存的内容",
                             "Too long to show (1500 characters); leave empty to keep what is saved"),
        "max_length": 1000, "input_type": "multiline_text",
    }


@pytest.mark.parametrize("rubric", [DEFAULT, huge_rubric()], ids=["default", "30-dimensions"])
def test_form_for_any_rubric_filled_with_long_values_is_valid_and_small(rubric: Rubric) -> None:
    """Long titles, descriptions and values still give a valid form under 30 KB and 200 components."""
    entered = RawFields(conclusion="通过", dimensions=tuple(
        (d.key, d.options if d.type.value == "multi" else "x" * 900 if d.type.value == "text" else "9" * 50)
        for d in rubric.dimensions), content="评" * 50_000, username="名" * 5000)
    errors = [FieldError(field=d.key, zh="错" * 3000, en="wrong " * 1000, suggestion="s" * 500)
              for d in rubric.dimensions] + [FieldError(field=f"w{i}", zh="无", en="no") for i in range(40)]
    card = form_card(AID, rubric, entered, submit_value=SUBMIT, errors=errors, interviewer_hint="名" * 5000)
    assert problems(card) == []
    assert size(card) <= 30_000
    assert count_components(card) <= 200
