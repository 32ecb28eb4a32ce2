"""The forms through the bot's own doors: the sync job pages through Hire's list (always giving page_size) and plans
the next one; without the scope the bot keeps its local rubric and says so once; a form's conditions and required
questions refused at submission with nothing written; /help and /readyz speak of the interview's form."""

from __future__ import annotations

import json

import pytest

from bot.jobs.forms import sync_now
from bot.sandbox.openapi.forms import HR, SALES
from bot.schedule.planner import Planner
from tests.support.cards import nodes, shown
from tests.support.ids import ALICE

INTERVIEW, ASSESSMENT = "7500000000000000031", "7600000000000000031"


def submit_button(card: dict) -> dict:
    return next(node["behaviors"][0]["value"] for node in nodes(card)
                if node.get("tag") == "button" and node.get("form_action_type") == "submit")


def controls(card: dict) -> dict[str, str]:
    """Each form control's name by the label just before it (English)."""
    found, label = {}, ""
    for element in next(e for e in card["body"]["elements"] if e.get("tag") == "form")["elements"]:
        if element.get("tag") == "div":
            label = element["text"].get("i18n_content", {}).get("en_us", element["text"]["content"])
        elif element.get("name"):
            found[label.split(" *")[0].split(" (")[0]] = element["name"]
    return found


def synced(ctx, feishu, forms: list[dict] | None = None) -> None:  # type: ignore[no-untyped-def]
    """The forms sync run against Hire holding `forms` (the sandbox's three unless given)."""
    if forms is not None:
        feishu.api.put_forms(forms)
    sync_now(ctx)
    ctx.runner.drain()


def schedule(ctx, form: str) -> None:  # type: ignore[no-untyped-def]
    chosen = ctx.forms.find(form)
    ctx.store.upsert_assignments([{"interview_id": INTERVIEW, "interviewer": ALICE, "candidate": "王芳",
                                   "position": "数据分析师", "round": "HR 面", "start_at": ctx.clock() - 7200,
                                   "end_at": ctx.clock() - 3600, "feishu_assessment_id": ASSESSMENT,
                                   "form": chosen.id}], Planner(ctx.settings, ctx.clock()))


def open_form(ctx, push, feishu) -> dict:  # type: ignore[no-untyped-def]
    push.message(f"/assess {INTERVIEW}")
    ctx.runner.drain()
    return feishu.sent_cards()[-1]["card"]


def test_the_sync_pages_through_every_form_giving_page_size_and_plans_the_next(ctx, feishu, clock):
    synced(ctx, feishu, [{"name": {"zh_cn": f"表{n}"}, "type": 1, "modules": []} for n in range(150)])
    asked = [c.request.url.split("?", 1)[1] for c in feishu.calls("GET", "interview_feedback_forms")]
    assert asked == ["page_size=100", "page_size=100&page_token=100"]
    assert len([r for r in ctx.store.stored_forms(current_only=True) if r.origin == "hire"]) == 150
    [planned] = [j for j in ctx.store.list_jobs("pending", "forms", 10)]
    assert planned.due == pytest.approx(clock() + 3600)
    sync_now(ctx)  # another process starting: the planned one is brought forward, not doubled
    assert [j.due for j in ctx.store.list_jobs("pending", "forms", 10)] == [pytest.approx(clock())]


def test_without_the_scope_the_local_rubric_is_used_and_it_is_said_once(ctx, app, push, feishu, logs, clock):
    feishu.api.fault("forms", "no_scope")  # every list call, until cleared
    for _ in range(2):
        sync_now(ctx)
        ctx.runner.drain()
        clock.advance(3600)
    said = [json.loads(line) for line in logs.getvalue().splitlines() if "feedback forms cannot be read" in line]
    assert [(s["level"], s["code"]) for s in said] == [("WARNING", 99991672)]
    ready = app.test_client().get("/readyz").get_json()
    assert (ready["status"], ready["forms"]["hire"], ready["forms"]["code"], ready["forms"]["rubric"]) == (
        "ok", "unavailable", 99991672, "local")
    assert "hire:interview:readonly" in ready["forms"]["reason"]
    push.message("/assess 6930815272790114324 pass coding=4")
    ctx.runner.drain()
    assert feishu.patches()[-1]["assessment_dimension_list"][0]["title"] == "编码能力"


def test_a_forms_conditions_and_required_questions_are_enforced_at_submission(ctx, push, feishu):
    synced(ctx, feishu)
    # the assessment's id comes with the schedule: Feishu holds it (empty), and refuses any other id
    feishu.api.auto_create = False
    feishu.api.add_assessments({ASSESSMENT: {"external_interview_id": INTERVIEW}})
    schedule(ctx, HR)
    card = open_form(ctx, push, feishu)
    names = controls(card)
    value = submit_button(card)
    body = push.card(value, {"conclusion": "1", names["Recommend hiring"]: "不推荐"}).get_json()
    assert body["toast"]["type"] == "error"
    refused = shown(body["card"]["data"])
    assert "'Why not' is required" in refused and "'Why recommend' is required" not in refused
    assert ctx.runner.drain() == 0 and feishu.patches() == []  # nothing queued, nothing written
    response = push.card(value, {"conclusion": "1", names["Recommend hiring"]: "不推荐", names["Why not"]: "Late.",
                                 names["Why recommend"]: "typed, then the answer above changed"}, event_id="cb-3")
    assert response.get_json()["toast"]["type"] == "success"
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 1, "assessment_dimension_list": [
        {"assessment_type": 2, "title": "是否推荐录用", "option": "不推荐"},
        {"assessment_type": 3, "title": "不推荐原因", "content": "Late."}]}]


def test_help_with_a_candidate_shows_that_interviews_form(ctx, push, feishu):
    synced(ctx, feishu)
    schedule(ctx, SALES)
    push.message("/help 王芳")
    push.message("/help")
    ctx.runner.drain()
    one, general = (shown(c["card"]) for c in feishu.sent_cards()[-2:])
    assert "Interview: 王芳 · 数据分析师 · HR 面\nFeedback form: Sales interview form" in one
    assert "Client communication * — one of: Strong / Medium / Weak" in one and "Resilience" not in one
    assert "coding / 编码 / code * — Coding, score 1–5" in general
    assert "send /help <candidate or interview id> to see an interview's form" in general


def test_a_reminder_names_the_interviews_form(ctx, feishu, clock):
    from bot.contract import NewJob, Remind

    synced(ctx, feishu)
    schedule(ctx, HR)
    [assignment] = ctx.store.assignments_of(ALICE)
    ctx.store.update_assignment(assignment.id, remind_at=clock())
    ctx.store.accept([], [NewJob(Remind(assignment=assignment.id, at=clock()))])
    ctx.runner.drain()
    reminder = [c["card"] for c in feishu.sent_cards() if c["uuid"].endswith(":r")][-1]
    assert "Round: HR 面\nTime:" in shown(reminder) and "Feedback form: HR interview form" in shown(reminder)
