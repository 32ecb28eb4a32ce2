"""The console: cards drawn as text, forms filled from typed answers, and whole chats against the real stack."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import rubric
from bot.assessment import Assessment, Conclusion, RawFields
from bot.sandbox.console.chat import GROUP_CHAT, Console, Options
from bot.sandbox.console.fill import Cancelled, fill_form, form_value, missing, prefilled
from bot.sandbox.console.render import Button, render, toast_line
from cards.confirmation import confirmation_card
from cards.elements import toast
from cards.errors import write_failed_card
from cards.form import form_card
from tests.support.ids import AID, ALICE, BOT, ENCRYPT_KEY, TOKEN
from tests.support.stack import Stack
from tests.support.waiting import wait_until

SMALL = rubric.parse({"dimensions": [
    {"key": "coding", "title": "编码能力", "title_en": "Coding", "type": "score", "min": 1, "max": 3, "required": True},
    {"key": "tags", "title": "亮点", "title_en": "Strengths", "type": "multi", "options": ["算法", "架构"]},
    {"key": "notes", "title": "面试记录", "title_en": "Notes", "type": "text"},
]})
AT = datetime(2026, 11, 25, 14, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
EDIT = {"a": "form", "id": AID}
STATE = Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 3, "tags": ("算法",)}, content="clear thinker")


def small_form() -> dict:
    entered = RawFields(conclusion="pass", dimensions=(("coding", "2"),))
    return form_card(AID, SMALL, entered, submit_value={"a": "submit"}, interviewer_hint="Alice Zhang")


# -- cards as text ---------------------------------------------------------------------------------------------

def test_a_confirmation_reads_as_its_title_fields_footer_and_numbered_button():
    view = render(confirmation_card(AID, STATE, SMALL, by="Alice Zhang", at=AT, edit_value=EDIT), "en")
    assert view.text == """\
┌─ Assessment updated · 6930815272790114324
│ Conclusion: Pass
│ Coding: 3 / 3
│ Strengths: 算法
│ Overall comment
│ clear thinker
│ ────────────────────────
│ Submitted by Alice Zhang · 2026-11-25 14:30 CST (UTC+08:00)
│ Assessment ID: 6930815272790114324
│ [1] Edit
└─"""
    assert view.buttons == [Button("Edit", EDIT, "", None)] and view.controls == []


def test_cards_read_in_chinese_with_lang_zh():
    view = render(confirmation_card(AID, STATE, SMALL, by="Alice Zhang", at=AT, edit_value=EDIT), "zh")
    assert view.lines[:4] == ["┌─ 外部面评已更新 · 6930815272790114324", "│ 结论：通过", "│ 编码能力：3 / 3",
                              "│ 亮点：算法"]
    assert view.lines[-2:] == ["│ [1] 修改", "└─"]


def test_a_form_numbers_its_fields_with_their_values_and_choices():
    view = render(small_form(), "en")
    assert view.text == """\
┌─ Fill in the assessment · 6930815272790114324
│ Conclusion *
│   (1) Pass   ‹one of: Fail / Pass / Pending›
│ Coding *
│   (2) 2   ‹one of: 1 / 2 / 3›
│ Strengths
│   (3) (empty)   ‹any of: 算法 / 架构›
│ Notes
│   (4) (empty) — Type here
│ Overall comment
│   (5) (empty) — Type here
│ Interviewer name
│   (6) Alice Zhang
│ [1] Submit   [2] Reset
└─"""
    assert [(c.kind, c.name, c.label, c.required, c.value) for c in view.controls] == [
        ("select", "conclusion", "Conclusion", True, "2"), ("select", "dim_coding", "Coding", True, "2"),
        ("multi", "dim_tags", "Strengths", False, ()), ("input", "dim_notes", "Notes", False, None),
        ("input", "content", "Overall comment", False, None), ("input", "username", "Interviewer name", False,
                                                                 "Alice Zhang")]
    assert view.submit == Button("Submit", {"a": "submit"}, "submit", "submit")


def test_an_error_card_reads_as_what_went_wrong_and_try_again():
    card = write_failed_card(AID, code=1002002, msg="参数错误", log_id="LOG1", retryable=False,
                             retry_value={"a": "form", "id": AID, "job": 7})
    assert render(card, "en").text == """\
┌─ The assessment was not saved · 6930815272790114324
│ Feishu did not accept these values and nothing was changed. Check the values and try again.
│ Error code: 1002002
│ Message: 参数错误
│ Log ID: LOG1
│ [1] Try again
└─"""


def test_wrong_values_are_marked_and_toasts_read_as_one_line():
    from bot.assessment import validate
    from bot.values import InvalidFields

    raw = RawFields(conclusion="pass", dimensions=(("coding", "9"),))
    with pytest.raises(InvalidFields) as caught:
        validate(raw, SMALL)
    lines = render(form_card(AID, SMALL, raw, submit_value={}, errors=caught.value.errors), "en").lines
    assert lines[1] == "│ ! 1 value needs fixing; nothing has been saved yet."
    assert "│ ! 'Coding' takes a whole number from 1 to 3, not '9'" in lines
    assert toast_line(toast("success", "面评已保存", "Assessment saved"), "en") == "✓ Assessment saved"
    assert toast_line(toast("error", "保存失败", "Could not save"), "zh") == "✗ 保存失败"


# -- filling in a form -----------------------------------------------------------------------------------------

def answers(*typed: str):
    """A read() that answers prompts in order, and the prompts it was given."""
    given = iter(typed)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(given)
        except StopIteration:
            raise EOFError from None

    return read, prompts


def test_typed_answers_become_the_form_value_feishu_would_submit():
    controls = render(small_form(), "en").controls
    read, _ = answers("-", "fail", "9", "3", "1, 2", r"line one\nline two", "", "-", "y")
    shown: list[str] = []
    values = fill_form(controls, [], read, shown.append, "en")
    assert form_value(controls, values) == {"conclusion": "1", "dim_coding": "3", "dim_tags": ["算法", "架构"],
                                            "dim_notes": "line one\nline two", "content": "", "username": ""}
    assert "    This field is required." in shown  # "-" on the required conclusion
    assert "    No such option: 9" in shown
    assert shown[1:3] == ["(1) Conclusion * [Pass]", "    1) Fail   2) Pass   3) Pending   (type a number)"]


def test_enter_keeps_every_prefilled_value_and_numbers_pick_fields():
    controls = render(small_form(), "en").controls
    read, prompts = answers("架构", "")
    values = fill_form(controls, [3], read, [].append, "en")
    assert prompts == ["    › ", "Submit? [Y/n] "]
    assert form_value(controls, values) == {"conclusion": "2", "dim_coding": "2", "dim_tags": ["架构"],
                                            "dim_notes": "", "content": "", "username": "Alice Zhang"}


def test_saying_no_at_the_end_or_ctrl_d_submits_nothing():
    controls = render(small_form(), "en").controls
    with pytest.raises(Cancelled):
        fill_form(controls, [1], answers("", "n")[0], [].append, "en")
    assert missing(controls, {**prefilled(controls), "dim_coding": None}) == [2]


# -- whole chats ---------------------------------------------------------------------------------------------

@pytest.fixture
def stack(database_url):
    running = Stack(database_url)
    yield running
    running.close()


def chat(stack: Stack, *typed: str, group: bool = False, lang: str = "en", quiet: float = 0.3) -> tuple[str, Console]:
    """Run the console over `typed` lines against the stack; everything it printed. After a reply, the console
    waits for `quiet` seconds without another before it reads the next line (or ends)."""
    out: list[str] = []
    options = Options(bot=stack.url, openapi=stack.openapi.url, encrypt_key=ENCRYPT_KEY, token=TOKEN, user=ALICE,
                      name="Alice Zhang", group=group, lang=lang)
    console = Console(options, read=answers(*typed)[0], write=out.append, watch=False, wait=10.0, quiet=quiet)
    assert console.run() == 0
    return "\n".join(out), console


def test_a_typed_command_and_a_filled_form_reach_the_open_api(stack):
    printed, _ = chat(stack, f"/assess {AID} pass coding=4", f"/assess {AID}", ":fill",
                      "1", "5", "3", "", "P6", "1,3", "notes", "solid", "", "", f":state {AID}", ":quit")
    assert ("assessbot replied:\n┌─ Assessment updated · 6930815272790114324\n│ Conclusion: Pass\n"
            "│ Coding: 4 / 5") in printed
    assert "┌─ Fill in the assessment · 6930815272790114324" in printed
    assert "✓ Assessment saved\nThe card now reads:\n┌─ Assessment updated" in printed
    held = stack.api.assessments()[AID]
    assert (held["conclusion"], held["content"], held["username"]) == (1, "solid", "Alice Zhang")
    assert [d.get("score", d.get("option", d.get("options", d.get("content"))))
            for d in held["assessment_dimension_list"]] == [5, 3, "P6", ["算法", "架构"], "notes"]
    assert printed.endswith("The local Open API holds for assessment 6930815272790114324:\n  conclusion: 1 (Fail)\n"
                            "  编码能力: 5\n  系统设计: 3\n  建议职级: P6\n  亮点: 算法, 架构\n  面试记录: notes\n"
                            "  content: solid\n  username: Alice Zhang")


def test_edit_on_a_confirmation_opens_the_form_in_place(stack):
    printed, console = chat(stack, f"/assess {AID} pending", ":click 1", ":click 9", ":click 2")
    assert "The card now reads:\n┌─ Fill in the assessment" in printed
    assert "The latest card has no button 9" in printed
    assert 'The button "Reset" does nothing here' in printed
    assert console.active is not None and console.active.view.submit is not None


def test_in_a_group_the_bot_is_mentioned_and_the_form_comes_privately(stack):
    printed, console = chat(stack, f"/assess {AID}", group=True, quiet=2.0)  # two jobs answer: both are printed
    assert "assessbot sent (privately):\n┌─ Fill in the assessment" in printed
    assert "assessbot replied (in the group):\n┌─ Sent privately" in printed
    [said] = [m for m in stack.api.messages(GROUP_CHAT) if m["sender"] == ALICE]
    assert said["text"] == f"@_user_1 /assess {AID}" and console.bot_open_id == BOT


def test_a_console_without_the_sandbox_says_what_it_cannot_reach():
    out: list[str] = []
    options = Options(bot="http://127.0.0.1:9", openapi="http://127.0.0.1:9", encrypt_key="k", token="t")
    assert Console(options, read=answers()[0], write=out.append, watch=False).run() == 1
    assert out == ["Cannot reach the local Open API http://127.0.0.1:9: ConnectionError. Is it running?"]


def test_a_schedule_file_is_sent_previewed_and_imported_and_the_followed_table_shown(database_url, tmp_path):
    from bot.sandbox import seed
    from bot.sandbox.console.api import private_chat

    stack = Stack(database_url, assessbot_schedulers=(ALICE,))
    try:
        schedule = tmp_path / "week.csv"
        schedule.write_text("interview_id,interviewer,candidate,start,end\n"
                            f"9100000000000000001,{ALICE},张伟,2030-12-07 10:00,2030-12-07 11:00\n", encoding="utf-8")
        stack.api.put_table(seed.TABLE_APP, seed.TABLE_ID, seed.TABLE_FIELDS, seed.table_records(ALICE, "Alice", 0.0))
        printed, _ = chat(stack, f":send {schedule}", ":click 1")
        chat_id = private_chat(ALICE)
        preview = lambda: next(m for m in stack.api.messages(chat_id) if m["sender"] == "app")  # noqa: E731
        wait_until(lambda: "Imported week.csv" in render(preview()["card"]).text)  # the import replaces the preview
        assert [a.candidate for a in stack.ctx.store.assignments_of(ALICE)] == ["张伟"]
        later, _ = chat(stack, ":table", ":send /no/such/file.csv")
    finally:
        stack.close()
    assert "assessbot replied:\n┌─ Schedule preview: week.csv" in printed and "│ [1] Import   [2] Cancel" in printed
    assert "Importing; this card shows the result when done." in printed
    assert "The Bitable the bot follows (the bot writes 面评状态):\n  recSandbox01  698000000000000000" in later
    assert "Cannot read /no/such/file.csv: there is no such file" in later
