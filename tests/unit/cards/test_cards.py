"""Card builders: exact cards for a small rubric, and every card valid and small enough for any rubric."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot.assessment import Assessment, Conclusion, RawFields, validate
from bot.rubric import DimensionType, Rubric, parse
from bot.sandbox.cardcheck import count_components, problems
from bot.values import FieldError, InvalidFields
from cards.confirmation import confirmation_card, saving_card
from cards.elements import SHORTENED, note, toast, user_text, when
from cards.errors import denied_card, invalid_card, problem_card, write_failed_card
from cards.form import form_card, form_values_to_raw
from cards.help import help_card
from cards.history import HistoryEntry, history_card
from cards.notice import group_notice_card, text_card
from tests.support.ids import AID, SHANGHAI
from tests.support.rubrics import SHIPPED
from tests.support.rubrics import thirty_dimensions as huge_rubric

AT = datetime(2024, 5, 1, 14, 30, tzinfo=SHANGHAI)

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
    assert [d.key for d in SHIPPED.dimensions] == [
        "coding", "design", "communication", "level", "strengths", "notes",
    ]


# --- form --------------------------------------------------------------------------------------------------

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
    card = form_card(AID, SHIPPED, FILLED, submit_value=SUBMIT)
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
        "options": [{"text": plain(o, en), "value": o} for o, en in (
            ("算法", "Algorithms"), ("工程质量", "Engineering quality"), ("架构", "Architecture"),
            ("业务理解", "Business sense"), ("学习能力", "Learning ability"))],
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
    card = form_card(AID, SHIPPED, RawFields(), submit_value=SUBMIT)
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
    hinted = form_card(AID, SHIPPED, RawFields(), submit_value=SUBMIT, interviewer_hint="李四")
    assert controls(hinted)["username"]["default_value"] == "李四"
    kept = form_card(AID, SHIPPED, FILLED, submit_value=SUBMIT, interviewer_hint="李四")
    assert controls(kept)["username"]["default_value"] == "王五"


def test_form_accepts_conclusion_words_and_aliases() -> None:
    """A conclusion word and a dimension alias prefill the same controls as their canonical forms."""
    card = form_card(AID, SHIPPED, RawFields(conclusion="待定", dimensions=(("编码", "５"), ("职级", "p7"))),
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
    for rubric, entered in ((SHIPPED, FILLED), (WIDE, RawFields(conclusion="1", dimensions=(
            ("coding", "2"), ("percent", "87"), ("level", "P5"), ("tags", ("架构",)), ("notes", "a\nb")),
            content="c", username="u"))):
        card = form_card(AID, rubric, entered, submit_value=SUBMIT)
        assert form_values_to_raw(submitted(card), rubric) == entered


def test_form_values_to_raw_reads_a_submitted_form() -> None:
    """Strings and lists come back keyed by dimension; an emptied text or multi field comes back empty (it may
    clear what was recorded); empty scores and choices, unknown names and buttons are ignored."""
    form_value = {"conclusion": "3", "dim_coding": "5", "dim_percent": "", "dim_tags": ["算法", "架构"],
                  "dim_level": ["P5"], "dim_notes": "  ", "content": "好", "Input_x": "ignored", "dim_nope": "1"}
    assert form_values_to_raw(form_value, WIDE) == RawFields(
        conclusion="3", dimensions=(("coding", "5"), ("level", "P5"), ("tags", ("算法", "架构")), ("notes", "")),
        content="好",
    )
    assert form_values_to_raw({}, WIDE) == RawFields()
    emptied = form_values_to_raw({"dim_tags": [], "content": ""}, WIDE)
    assert emptied == RawFields(dimensions=(("tags", ()),), content="")


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


@pytest.mark.parametrize("rubric", [SHIPPED, huge_rubric()], ids=["default", "30-dimensions"])
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


def test_form_too_big_for_error_lines_marks_wrong_fields_red_instead() -> None:
    """When every field of a huge rubric is wrong, the labels of wrong fields turn red and the summary says so."""
    rubric = huge_rubric()
    errors = [FieldError(field=d.key, zh="错" * 3000, en="wrong " * 1000) for d in rubric.dimensions]
    card = form_card(AID, rubric, RawFields(), submit_value=SUBMIT, errors=errors)
    assert problems(card) == [] and size(card) <= 30_000
    assert card["body"]["elements"][0] == note(*SHORTENED)
    assert card["body"]["elements"][1] == div("有 30 处需要修改（标红的项），尚未保存任何内容。",
                                              "30 values need fixing (marked in red); nothing has been saved yet.",
                                              text_color="red")
    labels = [e["text"] for e in form_elements(card) if e["tag"] == "div"]
    assert labels[0] == plain("结论 *", "Conclusion *")
    assert labels[1] == plain("维度0很长的标… *", "Dimensi… *", text_color="red")


# --- errors ------------------------------------------------------------------------------------------------

def test_problem_card_says_what_was_wrong_the_suggestion_and_the_usage() -> None:
    """A command that could not be read gets the reason, "did you mean", and the usage, all as plain text."""
    card = problem_card("没有 /asess 这个命令", "There is no /asess command", usage_zh="/assess <id> [pass|fail]",
                        usage_en="/assess <id> [pass|fail]", suggestion="/assess")
    assert card == {
        "schema": "2.0",
        "config": summary("没看懂这条命令", "Couldn't read that command"),
        "header": {"title": plain("没看懂这条命令", "Couldn't read that command"), "template": "orange"},
        "body": {"elements": [
            div("没有 /asess 这个命令", "There is no /asess command"),
            div("是否想输入：/assess", "Did you mean: /assess"),
            grey("用法", "Usage"),
            div("/assess <id> [pass|fail]", "/assess <id> [pass|fail]"),
        ]},
    }
    assert problems(card) == []
    assert problem_card("看不懂", "Unreadable")["body"]["elements"] == [div("看不懂", "Unreadable")]


def test_invalid_card_lists_each_wrong_value_and_says_nothing_was_written() -> None:
    """One red line per error, with its suggestion; the usage at the end."""
    errors = [FieldError(field="coding", zh="“编码能力”的分数应为 1 到 5 之间的整数，收到“9”",
                         en="'Coding' takes a whole number from 1 to 5, not '9'"),
              FieldError(field="conclusion", zh="结论“pas”无效", en="Conclusion 'pas' is not valid", suggestion="pass")]
    card = invalid_card(AID, errors, usage_zh="/assess <id>", usage_en="/assess <id>")
    assert card["header"] == {"title": plain("有些值不符合评分表", "Some values don't fit the rubric"),
                              "template": "orange", "subtitle": plain(AID)}
    assert card["body"]["elements"] == [
        div("未写入任何内容，请修改后重新发送。", "Nothing was written; fix these values and send again."),
        div("“编码能力”的分数应为 1 到 5 之间的整数，收到“9”", "'Coding' takes a whole number from 1 to 5, not '9'",
            text_size="notation", text_color="red"),
        div("结论“pas”无效（是否想输入“pass”？）", "Conclusion 'pas' is not valid (did you mean 'pass'?)",
            text_size="notation", text_color="red"),
        grey("用法", "Usage"),
        div("/assess <id>", "/assess <id>"),
    ]
    assert problems(card) == []


def test_invalid_card_with_many_errors_shows_thirty_and_counts_the_rest() -> None:
    """A flood of errors stays readable and small."""
    errors = [FieldError(field=f"w{i}", zh="错" * 2000, en="wrong " * 400) for i in range(45)]
    card = invalid_card(AID, errors)
    assert card["body"]["elements"][-1] == div("……另有 15 处", "…and 15 more", text_size="notation", text_color="red")
    assert problems(card) == [] and size(card) <= 30_000


@pytest.mark.parametrize(("retryable", "advice"), [
    (True, div("飞书暂时没能保存。填写的内容已保留，请重试。",
               "Feishu could not save it just now. Your values are kept; try again.")),
    (False, div("飞书没有接受这些值，面评没有任何改动。请检查填写的内容后重试。",
                "Feishu did not accept these values and nothing was changed. Check the values and try again.")),
])
def test_write_failed_card_says_what_feishu_said_and_what_to_do(retryable: bool, advice: dict) -> None:
    """The code, message and log id are shown; retryable failures keep the values, others changed nothing."""
    card = write_failed_card(AID, code=1002002, msg="参数错误", log_id="20240501abc", retryable=retryable,
                             retry_value={"do": "edit", "id": AID})
    assert card == {
        "schema": "2.0",
        "config": summary("面评未能保存", "The assessment was not saved"),
        "header": {"title": plain("面评未能保存", "The assessment was not saved"), "template": "red",
                   "subtitle": plain(AID)},
        "body": {"elements": [
            advice,
            grey("错误码：1002002\n信息：参数错误\n日志 ID：20240501abc",
                 "Error code: 1002002\nMessage: 参数错误\nLog ID: 20240501abc"),
            {"tag": "button", "text": plain("重试", "Try again"), "type": "primary",
             "behaviors": [{"type": "callback", "value": {"do": "edit", "id": AID}}]},
        ]},
    }
    assert problems(card) == []


def test_write_failed_card_without_code_log_id_or_retry() -> None:
    """Unknown code and log id are left out, and with no retry value there is no button."""
    card = write_failed_card(AID, code=None, msg="internal error", log_id=None, retryable=True, retry_value=None)
    assert card["body"]["elements"][1:] == [grey("信息：internal error", "Message: internal error")]


def test_denied_card_says_why() -> None:
    """A denial is a red card with the reason in both languages."""
    card = denied_card("只有负责人可以修改这条面评。", "Only the owner can change this assessment.")
    assert card == {
        "schema": "2.0",
        "config": summary("没有权限", "Not allowed"),
        "header": {"title": plain("没有权限", "Not allowed"), "template": "red"},
        "body": {"elements": [div("只有负责人可以修改这条面评。", "Only the owner can change this assessment.")]},
    }
    assert problems(card) == []


# --- help, history, notices -------------------------------------------------------------------------------

HELP = [
    SimpleNamespace(name="assess", aliases=("面评",),
                    usage="/assess <assessment_id> [pass|fail|pending] [<dimension>=<value> ...]",
                    summary_zh="记录或修改面评。", summary_en="Record or change an assessment.",
                    examples=("/assess 123 pass coding=4",)),
    SimpleNamespace(name="help", aliases=(), usage="/help", summary_zh="显示用法。",
                    summary_en="Show how to use the bot.", examples=()),
]


def test_help_card_lists_commands_then_the_rubric() -> None:
    """Each command with aliases, summary, usage and examples; then conclusion words and every dimension."""
    card = help_card(HELP, rubric=SMALL)
    assert problems(card) == []
    assert card["header"] == {"title": plain("面评助手用法", "How to use the assessment bot"), "template": "blue"}
    assert card["body"]["elements"] == [
        div("/assess（也可用 /面评）", "/assess (or /面评)", text_size="heading"),
        div("记录或修改面评。", "Record or change an assessment."),
        grey("用法：/assess <assessment_id> [pass|fail|pending] [<dimension>=<value> ...]\n示例：\n"
             "/assess 123 pass coding=4",
             "Usage: /assess <assessment_id> [pass|fail|pending] [<dimension>=<value> ...]\nExamples:\n"
             "/assess 123 pass coding=4"),
        div("/help", "/help", text_size="heading"),
        div("显示用法。", "Show how to use the bot."),
        grey("用法：/help", "Usage: /help"),
        {"tag": "hr"},
        {"tag": "markdown", "content": "**结论**", "i18n_content": {"zh_cn": "**结论**", "en_us": "**Conclusion**"}},
        div("通过：pass / 通过 / 2\n不通过：fail / 不通过 / 1\n待定：pending / 待定 / 3",
            "Pass: pass / 通过 / 2\nFail: fail / 不通过 / 1\nPending: pending / 待定 / 3"),
        {"tag": "markdown", "content": "**评价维度**",
         "i18n_content": {"zh_cn": "**评价维度**", "en_us": "**Dimensions**"}},
        grey("写法：名称=值（名称也可用标题，如 编码能力=4）；标 * 的是表单中的必填项。",
             "Write name=value (a title names it too, as in Coding=4); * marks what the form requires."),
        div("coding * — 编码能力，1–5 分", "coding * — Coding, score 1–5"),
        div("level — 建议职级，单选：P5 / P6 / P7", "level — Suggested level, one of: P5 / P6 / P7"),
        div("tags — 亮点，多选，用逗号分隔：算法 / 架构 / 沟通",
            "tags — tags, any of, comma-separated: 算法 / 架构 / 沟通"),
        div("notes — 面试记录，文字", "notes — Notes, free text"),
    ]


def test_help_card_for_the_default_and_a_huge_rubric_is_valid() -> None:
    """Help without a rubric, with the shipped one and with 30 long dimensions: valid and small."""
    for card in (help_card(HELP), help_card(HELP, rubric=SHIPPED), help_card(HELP, rubric=huge_rubric())):
        assert problems(card) == [] and size(card) <= 30_000 and count_components(card) <= 200


def test_history_card_lists_newest_first_with_changes() -> None:
    """Entries are sentences, newest first; failures are red with Feishu's log id; a success's changes follow it
    without one."""
    older = HistoryEntry(at=AT, actor="张三", action="write", result="ok",
                         changes=(("结论：待定 → 通过", "Conclusion: Pending → Pass"),
                                  ("综合记录：已修改", "Overall comment: changed")), log_id="log1")
    newer = HistoryEntry(at=AT + timedelta(hours=1), actor="李四", action="write", result="failed", log_id="log2")
    card = history_card(AID, [older, newer], owner="王五")
    assert problems(card) == []
    assert card["header"] == {"title": plain("面评记录", "Assessment history"), "template": "blue",
                              "subtitle": plain(AID)}
    assert card["body"]["elements"] == [
        grey("负责人：王五", "Owner: 王五"),
        div("2024-05-01 15:30 CST (UTC+08:00) · 李四 保存面评未成功",
            "2024-05-01 15:30 CST (UTC+08:00) · 李四 tried to save the assessment; it failed", text_color="red"),
        grey("飞书日志 ID：log2", "Feishu log id: log2"),
        div("2024-05-01 14:30 CST (UTC+08:00) · 张三 保存了面评",
            "2024-05-01 14:30 CST (UTC+08:00) · 张三 saved the assessment"),
        grey("结论：待定 → 通过\n综合记录：已修改", "Conclusion: Pending → Pass\nOverall comment: changed"),
    ]


def test_history_card_shows_forty_entries_and_counts_the_older_ones() -> None:
    """At most 40 rows; the rest are counted."""
    entries = [HistoryEntry(at=AT + timedelta(minutes=i), actor="张三" * 100, action="write", result="ok",
                            changes=(("content: " + "长" * 30,) * 2,) * 5) for i in range(45)]
    card = history_card(AID, entries, owner=None)
    assert problems(card) == [] and size(card) <= 30_000
    rows = [e for e in card["body"]["elements"] if e["text"].get("text_color") != "grey"]
    assert len(rows) == 40 and rows[0]["text"]["content"].startswith("2024-05-01 15:14")
    assert card["body"]["elements"][-1] == grey("另有 5 条更早的记录未显示。", "5 older entries are not shown.")


def test_history_card_with_huge_changes_cuts_each_row_and_says_it_was_shortened() -> None:
    """Rows whose changes would fill the card: still 40 rows, each cut short, and a note on top."""
    entries = [HistoryEntry(at=AT + timedelta(minutes=i), actor="张三" * 100, action="write", result="ok",
                            changes=(("content: " + "长" * 3000,) * 2,) * 5) for i in range(45)]
    card = history_card(AID, entries, owner=None)
    assert problems(card) == []
    assert card["body"]["elements"][0] == note(*SHORTENED)
    rows = [e for e in card["body"]["elements"] if e["text"].get("text_color") != "grey"]
    assert len(rows) == 40 and rows[0]["text"]["content"].startswith("2024-05-01 15:14 CST (UTC+08:00) · 张三张三张")
    assert card["body"]["elements"][-1] == grey("另有 5 条更早的记录未显示。", "5 older entries are not shown.")


def test_history_card_without_entries_says_so() -> None:
    """An empty history says there is nothing yet."""
    assert history_card(AID, [], owner=None)["body"]["elements"] == [div("还没有记录。", "No history yet.")]


def test_group_notice_says_it_was_sent_privately_and_nothing_else() -> None:
    """The group sees only that something went to the person in private."""
    assert group_notice_card() == {
        "schema": "2.0",
        "config": summary("已私聊发送", "Sent privately"),
        "header": {"title": plain("已私聊发送", "Sent privately"), "template": "wathet"},
        "body": {"elements": [div("已私聊发给你，请在与机器人的单聊中查看。",
                                  "Sent to you in a private chat with the bot; please look there.")]},
    }
    assert problems(group_notice_card()) == []


def test_text_card_is_a_short_bilingual_message() -> None:
    """A plain message under the bot's name, in the colour asked for."""
    card = text_card("已转交面评 123", "Assessment 123 handed over", template="green")
    assert card["header"] == {"title": plain("面评助手", "Assessment bot"), "template": "green"}
    assert card["body"]["elements"] == [div("已转交面评 123", "Assessment 123 handed over")]
    assert problems(card) == []


def test_every_choice_of_the_shipped_rubric_reads_in_english():
    """An English reader never meets a Chinese-only option: options_en, or options that read the same in both."""
    for dim in SHIPPED.dimensions:
        if dim.type in (DimensionType.SINGLE, DimensionType.MULTI):
            english = [dim.option_en(o) for o in dim.options]
            assert all(label.isascii() for label in english), (dim.key, english)


def test_an_english_card_shows_english_options_and_the_chinese_one_is_sent():
    from bot.assessment import RawFields, validate

    strengths = SHIPPED.get("strengths")
    assert [strengths.option_en(o) for o in strengths.options][:3] == ["Algorithms", "Engineering quality",
                                                                       "Architecture"]
    typed = validate(RawFields(dimensions=(("strengths", "Algorithms, Architecture"),)), SHIPPED)
    assert typed.dimensions["strengths"] == ("算法", "架构")  # Feishu gets the form's own labels
