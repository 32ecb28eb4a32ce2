"""The schedule's form column (form / 面评表) in files, the intake API and /assign: a form by its name in either
language or its id; an unknown name is a problem on its row, with the closest name offered."""

from __future__ import annotations

import json

import pytest

from bot.forms.sync import sync
from bot.sandbox.openapi.forms import ENGINEERING, SALES
from bot.schedule.files import read_bytes
from bot.schedule.intake import take_in
from bot.schedule.planner import Planner
from tests.support.cards import shown
from tests.support.ids import ADMIN, ALICE, BOB, INTAKE, SHANGHAI, make_settings
from tests.support.openapi import Hire

CSV = ("面试ID,面试官,候选人,职位,开始时间,结束时间,面评表\n"
       f"7412358746023518273,{ALICE},张伟,后端工程师,2026-12-07 10:00,2026-12-07 11:00,{ENGINEERING}\n"
       f"7412358746023518274,{ALICE},李娜,销售经理,2026-12-07 12:00,2026-12-07 13:00,sales INTERVIEW form\n"
       f"7412358746023518275,{ALICE},王芳,销售经理,2026-12-07 14:00,2026-12-07 15:00,{{sales_id}}\n"
       f"7412358746023518276,{ALICE},赵敏,,2026-12-07 16:00,2026-12-07 17:00,\n")



@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,), assessbot_intake_token=INTAKE)


@pytest.fixture
def hire(ctx) -> Hire:
    found = Hire()
    sync(ctx.store, found, ctx.rubric)
    return found


def take(ctx, text: str, **options):  # type: ignore[no-untyped-def]
    rows, problems = read_bytes(text.encode(), "csv", SHANGHAI)
    return take_in(rows, problems, ctx.store, Planner(ctx.settings, ctx.clock()), lookup=None, now=ctx.clock(),
                   forms=ctx.forms, **options)


def test_a_file_names_forms_by_name_english_name_or_id_and_an_empty_cell_leaves_it_to_the_mapping(ctx, hire):
    sales = ctx.forms.find(SALES)
    taken = take(ctx, CSV.format(sales_id=sales.id))
    assert (taken.new, taken.errors) == (4, [])
    chosen = {a.candidate: a.form for a in ctx.store.assignments_of(ALICE)}
    assert chosen == {"张伟": ENGINEERING, "李娜": SALES, "王芳": sales.id, "赵敏": None}  # a name, or the id given
    assert take(ctx, CSV.format(sales_id=sales.id)).unchanged == 4
    hire.forms.edit(ENGINEERING, {})
    sync(ctx.store, hire, ctx.rubric)
    assert take(ctx, CSV.format(sales_id=sales.id)).unchanged == 4  # a new version in Hire changes no row
    assert all(a.form_id is None for a in ctx.store.assignments_of(ALICE))  # pinned only when first opened


def test_an_unknown_form_is_a_problem_on_its_row_with_the_closest_name(ctx, hire):
    taken = take(ctx, CSV.format(sales_id="销售面试表"))
    assert taken.new == 0
    [problem] = taken.errors
    assert (problem.row, problem.column, problem.field) == (4, "面评表", "form")
    assert (problem.zh, problem.en) == ("没有名为“销售面试表”的评价表。是否想用“销售岗位面评表”？",
                                        "there is no feedback form called '销售面试表'. Did you mean '销售岗位面评表'?")
    skipped = take(ctx, CSV.format(sales_id="销售面试表"), skip_invalid=True)
    assert (skipped.new, skipped.skipped) == (3, 1)


def test_without_any_form_read_a_form_name_is_refused_listing_what_is_known(ctx):
    taken = take(ctx, CSV.format(sales_id="x"))
    assert taken.errors[0].en == ("there is no feedback form called '工程师面试评价表'; known: 本地评分表, "
                                  "Local rubric (`assessbot forms` lists them).")


def test_the_intake_api_takes_the_form_field(app, ctx, hire):
    body = [{"interview_id": "7412358746023518273", "interviewer": ALICE, "candidate": "张伟", "form": "HR 面试评价表",
             "start": "2026-12-07 10:00", "end": "2026-12-07 11:00"},
            {"interview_id": "7412358746023518274", "interviewer": ALICE, "candidate": "李娜", "面评表": "HR form",
             "start": "2026-12-07 10:00", "end": "2026-12-07 11:00"}]
    response = app.test_client().post("/api/interviews", data=json.dumps(body, ensure_ascii=False).encode(),
                                      headers={"Authorization": f"Bearer {INTAKE}"}, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["problems"] == [{
        "row": 2, "column": "面评表", "zh": "没有名为“HR form”的评价表。是否想用“HR interview form”？",
        "en": "there is no feedback form called 'HR form'. Did you mean 'HR interview form'?"}]


def test_assign_takes_a_form_and_refuses_an_unknown_one(push, ctx, feishu, hire):
    mention = [{"key": "@_user_2", "id": {"open_id": BOB}, "name": "Bob"}]
    push.message("/assign 7412358746023518273 @_user_2 candidate=张伟 end=2026-12-07 15:00 面评表=销售面试",
                 sender=ADMIN, mentions=mention)
    push.message("/assign 7412358746023518273 @_user_2 candidate=张伟 end=2026-12-07 15:00 form=销售岗位面评表",
                 sender=ADMIN, mentions=mention)
    ctx.runner.drain()
    refused, assigned = (shown(c["card"]) for c in feishu.sent_cards())
    assert "面评表: there is no feedback form called '销售面试'. Did you mean '销售岗位面评表'?" in refused
    assert "Feedback form: Sales interview form." in assigned
    [assignment] = ctx.store.assignments_of(BOB)
    assert assignment.form == SALES
