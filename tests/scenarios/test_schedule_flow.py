"""The schedule from the interviewer's side: the inbox, a name that fits several interviews, and an assessment
created on the first submission (exactly once, even when the answer to the create is lost)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.actions import OpenForm
from bot.display import interview_view
from bot.schedule.planner import Planner
from cards.reminder import choices_card, inbox_card
from tests.support.cards import nodes
from tests.support.ids import ALICE, BOB, SHANGHAI


def local(day: int, clock: str) -> float:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=SHANGHAI).timestamp()


def row(interview: str, end: float, *, interviewer: str = ALICE, candidate: str = "张三", **extra) -> dict:
    return {"interview_id": interview, "interviewer": interviewer, "candidate": candidate,
            "position": "Backend Engineer",
            "round": "Onsite 1", "start_at": end - 3600, "end_at": end, **extra}


def schedule(ctx, *rows: dict) -> None:
    ctx.store.upsert_assignments(list(rows), Planner(ctx.settings, ctx.clock()))


def cards_with(feishu, purpose: str) -> list[dict]:
    return [c for c in feishu.sent_cards() if (c["uuid"] or "").endswith(":" + purpose)]


@pytest.fixture(autouse=True)
def strict_ids(feishu) -> None:
    """Feishu PATCHes only assessments it holds: made by the bot's create, or outside it (added here)."""
    feishu.api.auto_create = False


def test_the_inbox_lists_what_is_due_overdue_first_what_comes_today_and_the_last_submitted(ctx, clock, push,
                                                                                         feishu):
    clock.now = local(25, "09:00")
    schedule(ctx, row("9001", local(25, "13:00"), candidate="李四"), row("9002", local(24, "11:00")),
             row("9003", local(25, "18:00"), candidate="王五"), row("9004", local(23, "16:00"), candidate="赵六"),
             row("9005", local(25, "12:00"), interviewer=BOB, candidate="Bob's"))
    done = ctx.store.find_assignments("9004")[0]
    ctx.store.update_assignment(done.id, submitted_at=local(24, "10:00"))
    clock.now = local(25, "15:00")
    push.message("/todo")
    ctx.runner.drain()
    now = datetime.fromtimestamp(clock(), SHANGHAI)
    by = {a.interview_id: interview_view(ctx, a) for a in ctx.store.assignments_of(ALICE)}
    due, today, submitted = [by["9002"], by["9001"]], [by["9003"]], [by["9004"]]
    expected = inbox_card(due, today, submitted, now=now,
                          fill={i.key: OpenForm(i.key).encode() for i in (*due, *submitted)})
    inbox = cards_with(feishu, "t")
    assert [c["card"] for c in inbox] == [expected]
    text = json.dumps(expected, ensure_ascii=False)
    assert "Bob's" not in text and "ended 1 day ago" in text and "面试结束于 1 天前" in text and "17:00 开始" in text
    buttons = [b["behaviors"][0]["value"] for b in nodes(expected) if b.get("tag") == "button"]
    assert buttons == [OpenForm(by["9002"].key).encode(), OpenForm(by["9001"].key).encode(),
                       OpenForm(by["9004"].key).encode()]
    push.card(buttons[0])  # its button opens that interview's form
    ctx.runner.drain()
    assert "张三" in json.dumps(feishu.sent_cards()[-1]["card"], ensure_ascii=False)


@pytest.mark.parametrize("text", ["/assess", "/my", "待办", "我的面试"])
def test_every_way_of_asking_answers_the_inbox(ctx, clock, push, feishu, text):
    push.message(text)
    ctx.runner.drain()
    assert len(cards_with(feishu, "t")) == 1


def test_a_name_that_fits_several_interviews_offers_the_choices_and_saves_nothing(ctx, clock, push, feishu):
    clock.now = local(25, "09:00")
    schedule(ctx, row("9101", local(24, "11:00")), row("9102", local(25, "08:00"), round="Onsite 2"),
             row("9103", local(24, "11:00"), interviewer=BOB))
    push.message("/assess 张三 pass coding=4")
    ctx.runner.drain()
    mine = ctx.store.assignments_of(ALICE)
    expected = choices_card("张三", [(interview_view(ctx, a), OpenForm(a.key).encode()) for a in mine])
    assert [c["card"] for c in cards_with(feishu, "p")] == [expected]
    assert feishu.calls("POST", "external_interview_assessments") == [] and feishu.patches() == []
    push.message("/assess 9102 pass coding=4")  # the interview id is unique
    ctx.runner.drain()
    assert len(feishu.calls("POST", "external_interview_assessments")) == 1


def test_the_first_submission_creates_the_assessment_and_later_ones_patch_it(ctx, clock, push, feishu):
    clock.now = local(25, "12:00")
    schedule(ctx, row("9201", local(25, "11:00")))
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    assignment = ctx.store.find_assignments("9201")[0]
    [created] = feishu.api.assessments().values()
    [sent] = feishu.bodies("create")
    assert (assignment.feishu_assessment_id, sent["external_id"]) == (created["id"], assignment.external_id)
    assert created["external_interview_id"] == "9201" and created["content"] == "solid"
    push.message("/assess 张三 coding=4")
    ctx.runner.drain()
    assert len(feishu.api.assessments()) == 1 and len(feishu.calls("POST", "external_interview_assessments")) == 1
    assert [c.request.url.split("?")[0].rsplit("/", 1)[1] for c in feishu.calls("PATCH", "assessments/")] == \
        [created["id"]]
    assert ctx.store.find_assignments(created["id"])[0].id == assignment.id  # Feishu's id now names it too


def test_a_create_whose_answer_was_lost_is_found_again_and_never_made_twice(ctx, clock, push, feishu):
    clock.now = local(25, "12:00")
    schedule(ctx, row("9301", local(25, "11:00")))
    # Feishu makes it, the answer never arrives (as if the bot crashed meanwhile)
    feishu.api.fault("create", "apply_then_fail", then="drop")
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    [lost] = feishu.api.calls("create")
    assert (lost["applied"], lost["faults"], lost["status"]) == (True, ["apply_then_fail"], None)  # done, then cut
    assert len(feishu.api.assessments()) == 1 and ctx.store.find_assignments("9301")[0].feishu_assessment_id is None
    for _ in range(5):
        clock.advance(120)
        ctx.runner.drain()
    [made] = feishu.api.assessments()
    assert ctx.store.find_assignments("9301")[0].feishu_assessment_id == made
    assert len(feishu.calls("POST", "external_interviews/batch_query")) >= 1
    push.message("/assess 9301 coding=4")
    ctx.runner.drain()
    held = feishu.api.assessments()
    assert list(held) == [made] and held[made]["content"] == "solid"
    assert ctx.store.jobs_by_status().get("dead", 0) == 0


def test_a_repeated_create_returns_the_same_assessment(ctx, clock, push, feishu):
    body = {"external_interview_id": "9401", "external_id": "ab-same", "content": "x", "conclusion": 1}
    first = ctx.feishu.create_assessment(body)
    again = ctx.feishu.create_assessment(body)
    ids = [w.data["external_interview_assessment"]["id"] for w in (first, again)]
    assert ids[0] == ids[1] and len(feishu.api.assessments()) == 1
    assert [a["id"] for a in ctx.feishu.interview_assessments("9401")] == ids[:1]



def test_cards_of_a_scheduled_interview_lead_with_the_candidate_and_keep_ids_in_small_print(ctx, clock, push,
                                                                                           feishu):
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
    confirmation = [c["card"] for c in feishu.sent_cards() if "外部面评已创建" in json.dumps(c["card"],
                                                                                         ensure_ascii=False)]
    assert confirmation[-1]["header"]["subtitle"]["content"] == subtitle(interview)
    assert confirmation[-1]["body"]["elements"][0] == about(interview)[0]
    created = ctx.store.find_assignments("9501")[0].feishu_assessment_id
    push.message(f"/history {created}", sender=BOB)  # the recruiter may read it
    ctx.runner.drain()
    history = feishu.sent_cards()[-1]["card"]
    assert history["header"]["subtitle"]["content"] == subtitle(interview) and "denied" not in json.dumps(history)
    assert ctx.store.owner_of(assignment.key) == ALICE  # the assigned interviewer owns it



def _controls(form: dict) -> dict[str, object]:
    """What the form's controls show filled in (an initial option or default text), by control name."""
    shown = {n["name"]: n.get("initial_option", n.get("default_value")) for n in nodes(form)
             if n.get("tag") in ("select_static", "input") and "name" in n}
    return {name: value for name, value in shown.items() if value is not None}


def _buttons(card: dict) -> dict[str, dict]:
    """Each button's English label and the value it sends back."""
    return {b["text"]["i18n_content"]["en_us"]: b["behaviors"][0]["value"] for b in nodes(card)
            if b.get("tag") == "button" and b.get("behaviors")}


HELD = {"conclusion": 2, "content": "Strong hire", "username": "李雷",
        "assessment_dimension_list": [{"title": "编码能力", "assessment_type": 1, "score": 4},
                                      {"title": "建议职级", "assessment_type": 2, "option": "P6"},
                                      {"title": "Culture fit", "assessment_type": 3, "content": "not on this form"}]}


def test_view_or_edit_of_an_assessment_made_outside_the_bot_shows_what_feishu_holds(ctx, clock, push,
                                                                                    feishu):
    clock.now = local(25, "12:00")
    feishu.api.add_assessments({"7100000000000000777": {**HELD, "external_interview_id": "9701"}})
    schedule(ctx, row("9701", local(25, "11:00"), feishu_assessment_id="7100000000000000777"))
    key = ctx.store.find_assignments("9701")[0].key
    form = json.loads(push.card(OpenForm(key).encode()).data)["card"]["data"]
    assert _controls(form) == {"conclusion": "2", "dim_coding": "4", "dim_level": "P6", "content": "Strong hire",
                               "username": "李雷"}
    assert "1 of the values Feishu holds for this assessment are not questions of this form" in json.dumps(form)
    push.message("/assess 张三 design=3")  # one more score: the others Feishu holds are sent with it, not lost
    ctx.runner.drain()
    [patched] = [json.loads(c.request.body) for c in feishu.calls("PATCH", "assessments/")]
    assert [(d["title"], d.get("score", d.get("option"))) for d in patched.pop("assessment_dimension_list")] == \
        [("编码能力", 4), ("系统设计", 3), ("建议职级", "P6")]
    assert patched == {}


def test_a_typed_score_for_an_assessment_made_outside_the_bot_keeps_the_others_feishu_holds(ctx, clock, push,
                                                                                           feishu):
    clock.now = local(25, "12:00")
    feishu.api.add_assessments({"7100000000000000779": {**HELD, "external_interview_id": "9706"}})
    schedule(ctx, row("9706", local(25, "11:00"), feishu_assessment_id="7100000000000000779"))
    push.message("/assess 张三 design=3")  # no form opened first: the write reads Feishu's values itself
    ctx.runner.drain()
    [patched] = [json.loads(c.request.body) for c in feishu.calls("PATCH", "assessments/")]
    assert [(d["title"], d.get("score", d.get("option"))) for d in patched["assessment_dimension_list"]] == \
        [("编码能力", 4), ("系统设计", 3), ("建议职级", "P6")]
    assert set(patched) == {"assessment_dimension_list"}


def test_a_form_whose_feishu_values_cannot_be_read_says_so(ctx, clock, push, feishu):
    clock.now = local(25, "12:00")
    feishu.api.fault("interviews", "error", code=1002001, msg="system error", count=None)
    schedule(ctx, row("9702", local(25, "11:00"), feishu_assessment_id="7100000000000000778"))
    key = ctx.store.find_assignments("9702")[0].key
    form = json.loads(push.card(OpenForm(key).encode()).data)["card"]["data"]
    assert "conclusion" not in _controls(form)
    assert "Could not read what Feishu holds for this assessment just now" in json.dumps(form)


def test_the_first_submission_is_announced_as_created_and_nothing_changed_keeps_its_time(ctx, clock, push,
                                                                                         feishu):
    ctx.store.remember_names({ALICE: "Alice Zhang"})
    clock.now = local(25, "12:00")
    schedule(ctx, row("9703", local(25, "11:00")))
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    first = feishu.sent_cards()[-1]["card"]
    assert first["header"]["title"]["i18n_content"]["en_us"] == "Assessment created"
    made = ctx.store.find_assignments("9703")[0].feishu_assessment_id
    clock.now = local(25, "12:45")
    push.message("/assess 张三 pass")
    ctx.runner.drain()
    same = feishu.sent_cards()[-1]["card"]
    seen = json.dumps(same, ensure_ascii=False)
    assert same["header"]["title"]["i18n_content"]["en_us"] == "Nothing changed"
    assert same["header"]["subtitle"]["content"] == "张三 · Backend Engineer · Onsite 1"
    assert f"Assessment ID: {made}" in seen and "Assessment ID: ab-" not in seen
    assert "Submitted by Alice Zhang · 2026-11-25 12:00" in seen  # the saved submission's time, not 12:45
    push.message("/assess 张三 coding=9")
    ctx.runner.drain()
    wrong = feishu.sent_cards()[-1]["card"]
    assert wrong["header"]["title"]["i18n_content"]["en_us"] == "Some values don't fit the rubric"
    assert wrong["header"]["subtitle"]["content"] == "张三 · Backend Engineer · Onsite 1"
    assert "ab-" not in json.dumps(wrong)  # the bot's own key is nowhere on it
    push.message("/assess 张三 coding=4")
    ctx.runner.drain()
    assert feishu.sent_cards()[-1]["card"]["header"]["title"]["i18n_content"]["en_us"] == "Assessment updated"


def test_the_inbox_shows_when_the_feedback_was_last_edited(ctx, clock, push, feishu):
    clock.now = local(25, "12:00")
    schedule(ctx, row("9704", local(25, "11:00")))
    push.message("/assess 张三 pass comment=solid")
    ctx.runner.drain()
    clock.now = local(25, "16:30")
    push.message("/assess 张三 coding=4")
    ctx.runner.drain()
    push.message("/todo")
    ctx.runner.drain()
    inbox = json.dumps(cards_with(feishu, "t")[-1]["card"], ensure_ascii=False)
    assert "16:30" in inbox and "12:00" not in inbox


def test_the_form_offers_the_interviewers_name_when_opened_from_the_reminder_the_inbox_or_edit(ctx, clock, push,
                                                                                              feishu):
    ctx.store.remember_names({ALICE: "Alice Zhang"})
    clock.now = local(25, "11:00")
    schedule(ctx, row("9705", local(25, "11:00")))
    clock.now = local(25, "13:00")
    ctx.runner.drain()  # the reminder
    push.message("/todo")
    ctx.runner.drain()
    opened = [_buttons(cards_with(feishu, "r")[-1]["card"])["Fill in feedback"],
              _buttons(cards_with(feishu, "t")[-1]["card"])["Fill in feedback"]]
    push.message("/assess 张三 pass")
    ctx.runner.drain()
    opened.append(_buttons(feishu.sent_cards()[-1]["card"])["Edit"])
    for value in opened:
        form = json.loads(push.card(value).data)["card"]["data"]
        assert _controls(form).get("username") == "Alice Zhang"
