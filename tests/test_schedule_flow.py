"""The schedule from the interviewer's side: the inbox, a name that fits several interviews, and an assessment
created on the first submission (exactly once, even when the answer to the create is lost)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.actions import OpenForm
from bot.jobs.remind import Planner
from bot.views import interview_view
from cards.reminder import choices_card, inbox_card
from tests.support.hire import FakeHire
from tests.support.ids import ALICE, BOB

ZONE = ZoneInfo("Asia/Shanghai")


def local(day: int, clock: str) -> float:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=ZONE).timestamp()


def row(interview: str, end: float, *, interviewer: str = ALICE, candidate: str = "张三", **extra) -> dict:
    return {"interview_id": interview, "interviewer": interviewer, "candidate": candidate, "job": "Backend Engineer",
            "round": "Onsite 1", "start_at": end - 3600, "end_at": end, **extra}


def schedule(ctx, *rows: dict) -> None:
    ctx.store.upsert_assignments(list(rows), Planner(ctx.settings, ctx.clock()))


def cards_with(feishu_http, purpose: str) -> list[dict]:
    return [c for c in feishu_http.sent_cards() if (c["uuid"] or "").endswith(":" + purpose)]


@pytest.fixture
def hire(feishu_http) -> FakeHire:
    return FakeHire(feishu_http.mock)


def test_the_inbox_lists_what_is_due_overdue_first_what_comes_today_and_the_last_submitted(ctx, clock, push,
                                                                                         feishu_http):
    clock.now = local(25, "09:00")
    schedule(ctx, row("9001", local(25, "13:00"), candidate="李四"), row("9002", local(24, "11:00")),
             row("9003", local(25, "18:00"), candidate="王五"), row("9004", local(23, "16:00"), candidate="赵六"),
             row("9005", local(25, "12:00"), interviewer=BOB, candidate="Bob's"))
    done = ctx.store.find_assignments("9004")[0]
    ctx.store.update_assignment(done.id, submitted_at=local(24, "10:00"))
    clock.now = local(25, "15:00")
    push.message("/todo")
    ctx.runner.drain()
    now = datetime.fromtimestamp(clock(), ZONE)
    by = {a.interview_id: interview_view(ctx, a) for a in ctx.store.assignments_of(ALICE)}
    due, today, submitted = [by["9002"], by["9001"]], [by["9003"]], [by["9004"]]
    expected = inbox_card(due, today, submitted, now=now,
                          fill={i.key: OpenForm(i.key).encode() for i in (*due, *submitted)})
    inbox = cards_with(feishu_http, "t")
    assert [c["card"] for c in inbox] == [expected]
    text = json.dumps(expected, ensure_ascii=False)
    assert "Bob's" not in text and "ended 1 day ago" in text and "面试结束于 1 天前" in text and "17:00 开始" in text
    buttons = [b["behaviors"][0]["value"] for b in _walk(expected) if b.get("tag") == "button"]
    assert buttons == [OpenForm(by["9002"].key).encode(), OpenForm(by["9001"].key).encode(),
                       OpenForm(by["9004"].key).encode()]
    push.card(buttons[0])  # its button opens that interview's form
    ctx.runner.drain()
    assert "张三" in json.dumps(feishu_http.sent_cards()[-1]["card"], ensure_ascii=False)


@pytest.mark.parametrize("text", ["/assess", "/my", "待办", "我的面试"])
def test_every_way_of_asking_answers_the_inbox(ctx, clock, push, feishu_http, text):
    push.message(text)
    ctx.runner.drain()
    assert len(cards_with(feishu_http, "t")) == 1


def test_a_name_that_fits_several_interviews_offers_the_choices_and_saves_nothing(ctx, clock, push, feishu_http):
    clock.now = local(25, "09:00")
    schedule(ctx, row("9101", local(24, "11:00")), row("9102", local(25, "08:00"), round="Onsite 2"),
             row("9103", local(24, "11:00"), interviewer=BOB))
    push.message("/assess 张三 pass coding=4")
    ctx.runner.drain()
    mine = ctx.store.assignments_of(ALICE)
    expected = choices_card("张三", [(interview_view(ctx, a), OpenForm(a.key).encode()) for a in mine])
    assert [c["card"] for c in cards_with(feishu_http, "p")] == [expected]
    assert feishu_http.calls("POST", "external_interview_assessments") == [] and feishu_http.patches() == []
    push.message("/assess 9102 pass coding=4")  # the interview id is unique
    ctx.runner.drain()
    assert len(feishu_http.calls("POST", "external_interview_assessments")) == 1


def test_the_first_submission_creates_the_assessment_and_later_ones_patch_it(ctx, clock, push, feishu_http, hire):
    clock.now = local(25, "12:00")
    schedule(ctx, row("9201", local(25, "11:00")))
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    assignment = ctx.store.find_assignments("9201")[0]
    [created] = hire.assessments.values()
    assert (assignment.assessment_id, created["external_id"]) == (created["id"], assignment.external_id)
    assert created["external_interview_id"] == "9201" and created["content"] == "solid"
    push.message("/assess 张三 coding=4")
    ctx.runner.drain()
    assert len(hire.assessments) == 1 and len(feishu_http.calls("POST", "external_interview_assessments")) == 1
    assert [c.request.url.split("?")[0].rsplit("/", 1)[1] for c in feishu_http.calls("PATCH", "assessments/")] == \
        [created["id"]]
    assert ctx.store.find_assignments(created["id"])[0].id == assignment.id  # Feishu's id now names it too


def test_a_create_whose_answer_was_lost_is_found_again_and_never_made_twice(ctx, clock, push, feishu_http, hire):
    clock.now = local(25, "12:00")
    schedule(ctx, row("9301", local(25, "11:00")))
    hire.lose_answers = 1  # Feishu makes it, the answer never arrives (as if the bot crashed meanwhile)
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    assert len(hire.assessments) == 1 and ctx.store.find_assignments("9301")[0].assessment_id is None
    for _ in range(5):
        clock.advance(120)
        ctx.runner.drain()
    [made] = hire.assessments
    assert ctx.store.find_assignments("9301")[0].assessment_id == made
    assert len(feishu_http.calls("POST", "external_interviews/batch_query")) >= 1
    push.message("/assess 9301 coding=4")
    ctx.runner.drain()
    assert list(hire.assessments) == [made] and hire.assessments[made]["content"] == "solid"
    assert ctx.store.jobs_by_status().get("dead", 0) == 0


def test_a_repeated_create_returns_the_same_assessment(ctx, clock, push, feishu_http, hire):
    body = {"external_interview_id": "9401", "external_id": "ab-same", "content": "x", "conclusion": 1}
    first = ctx.feishu.create_assessment(body)
    again = ctx.feishu.create_assessment(body)
    ids = [w.data["external_interview_assessment"]["id"] for w in (first, again)]
    assert ids[0] == ids[1] and len(hire.assessments) == 1
    assert [a["id"] for a in ctx.feishu.interview_assessments("9401")] == ids[:1]


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_cards_of_a_scheduled_interview_lead_with_the_candidate_and_keep_ids_in_small_print(ctx, clock, push,
                                                                                           feishu_http, hire):
    from cards.reminder import about, subtitle

    clock.now = local(25, "12:00")
    schedule(ctx, row("9501", local(25, "11:00"), recruiter=BOB))
    assignment = ctx.store.find_assignments("9501")[0]
    interview = interview_view(ctx, assignment)
    form = json.loads(push.card(OpenForm(assignment.key).encode()).data)["card"]["data"]
    assert form["header"]["subtitle"]["content"] == "张三 · Backend Engineer · Onsite 1"
    assert form["body"]["elements"][0] == about(interview)[0]
    assert form["body"]["elements"][-1]["text"]["content"] == "面试 9501"  # no assessment yet: the interview
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    confirmation = [c["card"] for c in feishu_http.sent_cards() if "外部面评已更新" in json.dumps(c["card"],
                                                                                         ensure_ascii=False)]
    assert confirmation[-1]["header"]["subtitle"]["content"] == subtitle(interview)
    assert confirmation[-1]["body"]["elements"][0] == about(interview)[0]
    created = ctx.store.find_assignments("9501")[0].assessment_id
    push.message(f"/history {created}", sender=BOB)  # the recruiter may read it
    ctx.runner.drain()
    history = feishu_http.sent_cards()[-1]["card"]
    assert history["header"]["subtitle"]["content"] == subtitle(interview) and "denied" not in json.dumps(history)
    assert ctx.store.owner_of(assignment.key) == ALICE  # the assigned interviewer owns it
