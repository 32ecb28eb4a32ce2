"""The tenant's feedback forms end to end, checked from outside: the local Open API serves Hire's three sandbox forms
in the documented shape, the bot reads them with the real lark-oapi client, a schedule names them, and each interview
is asked and written with its own form only."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import forms as forms_cli
from bot.cli import importing
from bot.sandbox.console.render import render
from bot.sandbox.openapi.checks import CREATE_FIELDS, assessment_problems, card_problems
from bot.sandbox.push import card_action
from tests.support.ids import ALICE, SANDBOX_APP_ID, SANDBOX_APP_SECRET, TOKEN
from tests.support.stack import CHAT, Stack

ENGINEERING, SALES, HR = "工程师面试评价表", "销售岗位面评表", "HR 面试评价表"
SCHEDULE = """interview_id,interviewer,candidate,job,round,start,end,面评表
7500000000000000001,{alice},张伟,后端工程师,一面,2026-11-20 10:00,2026-11-20 11:00,{engineering}
7500000000000000002,{alice},李娜,销售经理,二面,2026-11-20 12:00,2026-11-20 13:00,Sales interview form
7500000000000000003,{alice},王芳,数据分析师,HR 面,2026-11-20 14:00,2026-11-20 15:00,{hr_id}
"""




@pytest.fixture
def stack(database_url, monkeypatch, tmp_path):
    running = Stack(database_url)
    env = {"FEISHU_APP_ID": SANDBOX_APP_ID, "FEISHU_APP_SECRET": SANDBOX_APP_SECRET,
           "FEISHU_DOMAIN": running.openapi.url, "FEISHU_VERIFICATION_TOKEN": TOKEN, "FEISHU_ENCRYPT_KEY": "k",
           "DATABASE_URL": database_url, "ASSESSBOT_FORMS": str(tmp_path / "no-mapping.toml")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    yield running
    running.close()


def forms_sync() -> list[str]:
    said: list[str] = []
    assert forms_cli.run(argparse.Namespace(verb="sync", env_file=None), said.append) == 0
    return said


def import_schedule(stack: Stack, tmp_path, text: str) -> None:
    path = tmp_path / "schedule.csv"
    path.write_text(text, encoding="utf-8")
    args = argparse.Namespace(file=path, skip_invalid=False, dry_run=False, env_file=None)
    assert importing.run(args) == 0


def newest(stack: Stack, name: str) -> str:
    return next(v["id"] for i, v in stack.api.feedback_forms()["versions"].items()
                if i in stack.api.feedback_forms()["newest"] and v["name"]["zh_cn"] == name)


def open_form(stack: Stack, interview: str, message_id: str) -> dict:
    stack.say(f"/assess {interview}", message_id)
    return stack.reply_to(message_id)


def submit(stack: Stack, form: dict, values: dict) -> dict:
    view = render(form["card"])
    token = stack.api.issue_callback_token(form["message_id"])
    return stack.push(card_action(view.submit.value, values, token=TOKEN, operator=ALICE,
                                  message_id=form["message_id"], chat_id=CHAT, callback_token=token)).json()


def typed(stack: Stack, text: str, message_id: str) -> str:
    stack.say(text, message_id)
    return render(stack.reply_to(message_id)["card"]).text


def written(stack: Stack) -> list[dict]:
    return [c["body"] for c in stack.api.calls() if c["endpoint"] in ("create", "patch") and c["status"] == 200]


def test_each_interview_is_asked_and_written_with_its_own_hire_form(stack, tmp_path):
    said = forms_sync()
    assert said[0] == "read 3 feedback forms from Feishu Hire (3 new versions):"
    assert [line.split(" · ")[0].strip() for line in said[1:]] == [ENGINEERING, SALES, HR]
    import_schedule(stack, tmp_path, SCHEDULE.format(alice=ALICE, engineering=ENGINEERING,
                                                     hr_id=newest(stack, HR)))

    engineering = open_form(stack, "7500000000000000001", "om_f1")
    assert card_problems(engineering["card"]) == []
    view = render(engineering["card"])
    text = view.text
    assert "Feedback form: Engineering interview form (version 1)" in text
    for seen in ("Technical skills", "Code quality *", "Excellent (5)", "System design *", "Technical strengths",
                 "Algorithms", "Suggested level", "Score", "Computed by the bot", "Interview notes"):
        assert seen in text
    for unseen in ("Client communication", "Resilience", "Recommend hiring", "Coding"):
        assert unseen not in text
    sales_form = open_form(stack, "7500000000000000002", "om_f2")
    sales = render(sales_form["card"]).text
    assert "Client communication *" in sales and "Sales case" in sales
    assert "Resilience" not in sales and "抗压能力" not in render(sales_form["card"], "zh").text
    assert "Code quality" not in sales
    hr = render(open_form(stack, "7500000000000000003", "om_f3")["card"]).text
    assert "Why not * (only when 'Recommend hiring' is Do not recommend; required then)" in hr

    answer = submit(stack, engineering, {})
    assert answer["toast"]["type"] == "error"
    refused = render(answer["card"]["data"]).text
    assert "'Code quality' is required" in refused and "'System design' is required" in refused
    assert "Choose a conclusion" in refused and written(stack) == []

    answer = submit(stack, engineering, {"conclusion": "2", field(view, "Code quality"): "良好",
                                         field(view, "System design"): "8",
                                         field(view, "Technical strengths"): ["算法", "调试"],
                                         field(view, "Technical notes"): "Clean code.",
                                         field(view, "Suggested level"): "P6",
                                         "content": "Strong hire", "username": "Alice Zhang"})
    assert answer["toast"]["type"] == "success"
    confirmed = render(answer["card"]["data"]).text
    assert "Code quality: Good (4)" in confirmed and "Score: 12" in confirmed
    [created] = written(stack)
    assert assessment_problems(created, CREATE_FIELDS) == []
    assert {k: created[k] for k in ("conclusion", "content", "username")} == {
        "conclusion": 2, "content": "Strong hire", "username": "Alice Zhang"}
    assert created["assessment_dimension_list"] == [
        {"assessment_type": 1, "title": "代码质量", "description": "代码的正确性、可读性与测试", "score": 4},
        {"assessment_type": 1, "title": "系统设计", "description": "1–10 分", "score": 8},
        {"assessment_type": 4, "title": "技术亮点", "options": ["算法", "调试"]},
        {"assessment_type": 3, "title": "技术评价", "content": "Clean code."},
        {"assessment_type": 3, "title": "职级建议",
         "description": "职级建议：外部面评没有职级选项，请以文字填写建议的职级（如 P6，或 P5–P6）。", "content": "P6"},
        {"assessment_type": 1, "title": "得分", "score": 12},
    ]

    said = typed(stack, '/assess 7500000000000000001 系统设计=11', "om_t1")
    assert "'System design' takes a whole number from 1 to 10, not '11'" in said
    said = typed(stack, "/assess 7500000000000000001 客户沟通=强", "om_t2")
    assert "The form 'Engineering interview form' has no dimension called '客户沟通'" in said
    assert len(written(stack)) == 1
    said = typed(stack, '/assess 7500000000000000001 "System design"=9 "Technical strengths"=Architecture '
                        '技术评价=Tidy.', "om_t3")
    assert "System design: 9 / 10" in said and "Score: 13" in said
    patched = written(stack)[-1]
    assert patched == {"assessment_dimension_list": [
        {"assessment_type": 1, "title": "代码质量", "description": "代码的正确性、可读性与测试", "score": 4},
        {"assessment_type": 1, "title": "系统设计", "description": "1–10 分", "score": 9},
        {"assessment_type": 4, "title": "技术亮点", "options": ["架构"]},
        {"assessment_type": 3, "title": "技术评价", "content": "Tidy."},
        {"assessment_type": 3, "title": "职级建议",
         "description": "职级建议：外部面评没有职级选项，请以文字填写建议的职级（如 P6，或 P5–P6）。", "content": "P6"},
        {"assessment_type": 1, "title": "得分", "score": 13},
    ]}


def field(view, title: str) -> str:  # type: ignore[no-untyped-def]
    """The name of the form control whose label starts with this title."""
    return next(c.name for c in view.controls if c.label.startswith(title))


def test_an_edit_in_hire_reaches_new_interviews_while_one_already_opened_keeps_its_version(stack, tmp_path):
    forms_sync()
    import_schedule(stack, tmp_path, SCHEDULE.format(alice=ALICE, engineering=ENGINEERING, hr_id=HR))
    first = render(open_form(stack, "7500000000000000001", "om_v1")["card"]).text
    assert "(version 1)" in first and "Collaboration" not in first
    v1 = newest(stack, ENGINEERING)

    stack.api.edit_form(ENGINEERING, {"add": [{"name": {"zh_cn": "沟通协作", "en_us": "Collaboration"}, "type": 7,
                                               "enabled": True, "is_required": True,
                                               "score_dimension_config": {"lower_limit_score": 1,
                                                                          "upper_limit_score": 5}}]})
    v2 = newest(stack, ENGINEERING)
    assert v2 != v1
    said = forms_sync()
    assert said[0] == "read 3 feedback forms from Feishu Hire (1 new version):"
    assert f"  {ENGINEERING} · version 2 · id {v2}" in said
    import_schedule(stack, tmp_path, "interview_id,interviewer,candidate,start,end,form\n"
                                     f"7500000000000000009,{ALICE},赵敏,2026-11-21 10:00,2026-11-21 11:00,{v1}\n")

    new = render(open_form(stack, "7500000000000000009", "om_v2")["card"]).text
    assert "(version 2)" in new and "Collaboration *" in new  # an old version's id names its form's newest
    again = render(open_form(stack, "7500000000000000001", "om_v3")["card"]).text
    assert "(version 1)" in again and "Collaboration" not in again
    said = typed(stack, "/assess 7500000000000000001 Collaboration=3", "om_v4")
    assert "has no dimension called 'Collaboration'" in said
    said = typed(stack, "/assess 7500000000000000009 Collaboration=3 代码质量=优秀", "om_v5")
    assert "Collaboration: 3 / 5" in said and "Code quality: Excellent (5)" in said

    listed: list[str] = []
    assert forms_cli.run(argparse.Namespace(verb="list", env_file=None), listed.append) == 0
    text = "\n".join(listed)
    assert f"id {v2} · version 2 · 7 dimensions · 1 interview" in text
    assert f"{ENGINEERING} · version 1 · id {v1} · 1 interview" in text  # the opened one, pinned
    assert "Older versions still used by the interviews opened with them:" in text
