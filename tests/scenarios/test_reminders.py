"""Reminders, digests and escalation on a fake clock: the jobs run as the runner would, the cards are exact."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot import create_app
from bot.actions import NotMine, OpenForm, Snooze
from bot.display import interview_view
from bot.schedule.planner import Planner
from cards.reminder import digest_card, reminder_card
from tests.support.ids import ADMIN, ALICE, BOB, SHANGHAI
from tests.support.jobs import pending_work

RECRUITER = "ou_recruiter0000000000000000000000"


def local(day: int, clock: str, month: int = 11) -> float:
    """A wall-clock time in the deployment's zone (November 2026: the 25th is a Wednesday)."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, month, day, hours, minutes, tzinfo=SHANGHAI).timestamp()


def row(interview: str, end: float, *, interviewer: str = ALICE, candidate: str = "张三", **extra) -> dict:
    return {"interview_id": interview, "interviewer": interviewer, "candidate": candidate,
            "position": "Backend Engineer",
            "round": "Onsite 1", "start_at": end - 3600, "end_at": end, "recruiter": RECRUITER, **extra}


def schedule(ctx, *rows: dict):
    return ctx.store.upsert_assignments(list(rows), Planner(ctx.settings, ctx.clock()))


@pytest.fixture
def run(ctx, clock, feishu):
    """Move the clock to a moment, run what is due, and return the cards sent meanwhile."""

    def go(moment: float, runner=None) -> list[dict]:
        before = len(feishu.sent_cards())
        clock.now = moment
        (runner or ctx.runner).drain()
        return feishu.sent_cards()[before:]

    return go


def expected_reminder(ctx, key: str) -> dict:
    assignment = ctx.store.assignment(key)
    return reminder_card(interview_view(ctx, assignment), fill=OpenForm(assignment.key).encode(),
                         later=Snooze(assignment.id).encode(), not_mine=NotMine(assignment.id).encode())


def uuid(text: str) -> str:
    """The uuid Feishu deduplicates by: the last 50 characters of the source and purpose."""
    return text[-50:]


def to(card: dict) -> str:
    return card["url"]


def test_one_reminder_exactly_at_end_plus_delay_and_none_before(ctx, clock, feishu, run):
    clock.now = local(25, "09:00")
    assert schedule(ctx, row("7001", local(25, "11:00"))).new == 1
    assert run(local(25, "11:59")) == []
    sent = run(local(25, "12:00"))
    assignment = ctx.store.find_assignments("7001")[0]
    assert sent == [{"via": "post", "url": "/open-apis/im/v1/messages?receive_id_type=open_id",
                     "uuid": f"remind:{assignment.id}:{int(local(25, '12:00'))}:r",
                     "card": expected_reminder(ctx, assignment.key)}]
    assert run(local(25, "12:30")) == []


def test_a_reminder_due_outside_working_time_goes_at_the_next_opening(ctx, clock, feishu, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7002", local(25, "19:30")), row("7003", local(27, "19:30")))  # Wed evening, Fri evening
    assert run(local(25, "20:30")) == []
    assert run(local(26, "08:59")) == []
    assert len(run(local(26, "09:00"))) == 1
    assert [c for c in run(local(29, "23:00")) if c["uuid"].endswith(":r")] == []  # the weekend
    monday = [c for c in run(local(30, "09:00")) if c["uuid"].endswith(":r")]
    assert len(monday) == 1 and monday[0]["card"]["body"]["elements"][-1]["text"]["content"] == "面试 7003"
    assert monday[0]["card"] == expected_reminder(ctx, ctx.store.find_assignments("7003")[0].key)


def test_remind_me_later_plans_the_next_reminder_and_the_older_plan_does_nothing(ctx, clock, feishu, push, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7004", local(25, "11:00")))
    assignment = ctx.store.find_assignments("7004")[0]
    assert len(run(local(25, "12:00"))) == 1
    clock.now = local(25, "12:05")
    first = push.card(Snooze(assignment.id).encode())
    assert first.get_json()["toast"]["content"] == "好的，11-25 15:05 再提醒你。"
    clock.now = local(25, "12:10")
    push.card(Snooze(assignment.id).encode())  # changed their mind: the 15:05 plan is replaced
    assert run(local(25, "15:09")) == []
    sent = run(local(25, "15:10"))
    assert [c["uuid"] for c in sent] == [f"remind:{assignment.id}:{int(local(25, '15:10'))}:r"]
    assert sent[0]["card"] == expected_reminder(ctx, assignment.key)
    clock.now = local(25, "18:00")
    late = push.card(Snooze(assignment.id).encode())  # three hours is past closing: the next morning
    assert late.get_json()["toast"]["content"] == "好的，11-26 09:00 再提醒你。"


def test_not_my_interview_tells_the_recruiter_stops_the_reminders_and_is_audited(ctx, clock, feishu, push, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7005", local(25, "11:00")))
    assignment = ctx.store.find_assignments("7005")[0]
    run(local(25, "12:00"))
    clock.now = local(25, "12:01")
    asked = push.card(NotMine(assignment.id).encode()).get_json()["card"]["data"]  # asked once more first
    shown = json.dumps(asked, ensure_ascii=False)
    assert asked["header"]["title"]["i18n_content"]["en_us"] == "Not your interview?"
    assert "候选人：张三" in shown and "Yes, not mine" in shown and "Fill in feedback" in shown
    assert ctx.store.assignment_by_id(assignment.id).stopped is None and run(local(25, "12:01")) == []
    answer = push.card(NotMine(assignment.id, True).encode()).get_json()
    assert answer["toast"]["content"] == "已通知招聘负责人"
    done = answer["card"]["data"]
    assert done["header"]["title"]["i18n_content"]["en_us"] == "Noted: not your interview"
    assert "候选人：张三" in json.dumps(done, ensure_ascii=False)  # the card still says which interview
    told = run(local(25, "12:01"))
    assert [(c["uuid"], "不是自己的" in str(c["card"])) for c in told] == [(f"notmine:{assignment.id}:x", True)]
    assert "receive_id_type=open_id" in to(told[0])
    assert ctx.store.assignment_by_id(assignment.id).stopped == "not_mine"
    assert [e.action for e in ctx.store.history(assignment.key)] == ["not_mine"]
    assert run(local(30, "18:00")) == []  # no digest, no reminder, no escalation
    refused = push.card(NotMine(assignment.id, True).encode(), operator=BOB)  # not Bob's to stop
    assert refused.status_code == 200 and ctx.store.history(assignment.key)[0].result == "denied"


def test_one_digest_a_working_day_until_the_recruiter_is_told_once(ctx, clock, feishu, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7006", local(25, "11:00")), row("7007", local(25, "14:00"), candidate="李四"))
    sent = run(local(25, "15:00"))
    assert [c["uuid"][-2:] for c in sent] == [":r", ":r"]  # one reminder each, no digest the same day
    assert run(local(26, "09:59")) == []
    digest = run(local(26, "10:00"))
    due = [interview_view(ctx, a) for a in ctx.store.due(ALICE, clock())]
    assert digest == [{"via": "post", "url": "/open-apis/im/v1/messages?receive_id_type=open_id",
                       "uuid": uuid(f"digest:{ALICE}:2026-11-26:g"),
                       "card": digest_card(due, now=datetime.fromtimestamp(clock(), SHANGHAI),
                                           fill={i.key: OpenForm(i.key).encode() for i in due})}]
    assert run(local(26, "19:00")) == []  # once a day
    days = {}
    for day, month in ((27, 11), (28, 11), (29, 11), (30, 11), (1, 12), (2, 12), (3, 12), (4, 12)):
        days[day] = [c["uuid"] for c in run(local(day, "19:00", month))]
    assert days[27] == [uuid(f"digest:{ALICE}:2026-11-27:g")]
    assert days[28] == days[29] == []  # the weekend
    assert days[30] == [uuid(f"digest:{ALICE}:2026-11-30:g")]
    assert days[1] == [uuid(f"digest:{ALICE}:2026-12-01:g")]
    ids = sorted(a.id for a in ctx.store.due(ALICE, clock()))
    assert days[2] == [f"overdue:{ids[0]}:e", f"overdue:{ids[1]}:e"]  # five working days: the recruiter, once each
    assert days[3] == days[4] == []
    assert all(a.escalated_at == local(2, "19:00", 12) for a in ctx.store.due(ALICE, clock()))


def test_no_reminder_after_the_assessment_is_submitted(ctx, clock, feishu, push, run):

    clock.now = local(25, "09:00")
    schedule(ctx, row("7008", local(25, "11:00"), feishu_assessment_id="6930815272790114324"))
    clock.now = local(25, "11:30")
    push.message("/assess 张三 pass comment=fine")
    ctx.runner.drain()
    assert len(feishu.patches()) == 1
    assert ctx.store.find_assignments("7008")[0].submitted_at == local(25, "11:30")
    later = run(local(30, "18:00"))
    assert [c["uuid"] for c in later] == []


def test_two_instances_and_a_restart_never_send_a_reminder_twice(ctx, clock, feishu, settings, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7009", local(25, "11:00")))
    other = create_app(settings, clock=clock, start_runner=False).extensions["assessbot"]
    try:
        clock.now = local(25, "12:00")
        other.runner.drain()
        ctx.runner.drain()
        again = create_app(settings, clock=clock, start_runner=False).extensions["assessbot"]  # a restart
        try:
            clock.now = local(25, "12:01")
            again.runner.drain()
        finally:
            again.store.dispose()
        other.runner.drain()
    finally:
        other.store.dispose()
    reminders = [c for c in feishu.sent_cards() if c["uuid"].endswith(":r")]
    assert len(reminders) == 1


def test_a_past_schedule_of_fifty_interviews_gives_each_person_one_digest(ctx, clock, feishu, run):
    clock.now = local(25, "12:00")
    rows = [row(f"80{n:02d}", local(25, "11:00") - 86400 * (2 + n % 8) - 60 * n,
                interviewer=(ALICE, BOB)[n % 2], candidate=f"候选人{n}") for n in range(50)]
    assert schedule(ctx, *rows).new == 50
    assert pending_work(ctx.store) == {"pending": 2}  # one digest per person, not fifty
    sent = run(local(25, "12:00"))
    assert sorted(c["uuid"] for c in sent) == sorted(uuid(f"digest:{who}:2026-11-25:g") for who in (ALICE, BOB))
    assert all("还有 25 份面试反馈待填写" in str(c["card"]) for c in sent)
    assert run(local(25, "19:59")) == []
    assert schedule(ctx, *rows).unchanged == 50 and run(local(25, "19:59")) == []


def test_a_recent_interview_found_overdue_is_reminded_now_in_working_time(ctx, clock, feishu, run):
    clock.now = local(25, "21:00")
    schedule(ctx, row("7010", local(25, "17:00")))
    assert run(local(26, "08:59")) == []
    assert [c["uuid"][-2:] for c in run(local(26, "09:00"))] == [":r"]


def test_a_reimport_that_moves_the_interview_plans_a_new_reminder_and_a_changed_name_does_not(ctx, clock,
                                                                                            feishu, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7011", local(25, "11:00")))
    assert len(run(local(25, "12:00"))) == 1
    assert schedule(ctx, row("7011", local(25, "11:00"), candidate="张三丰")).updated == 1
    assert run(local(25, "19:00")) == []
    schedule(ctx, row("7011", local(26, "15:00"), candidate="张三丰"))  # it moved to tomorrow
    assert run(local(26, "10:00")) == []  # not due yet: the digest has nothing to list
    assert [c["uuid"][-2:] for c in run(local(26, "16:00"))] == [":r"]


def test_admins_hear_of_a_stopped_interview_when_it_has_no_recruiter(ctx, clock, feishu, push, run):
    clock.now = local(25, "09:00")
    schedule(ctx, row("7012", local(25, "11:00"), recruiter=None))
    assignment = ctx.store.find_assignments("7012")[0]
    push.card(NotMine(assignment.id, True).encode())
    told = run(local(25, "09:01"))
    assert len(told) == len(ctx.settings.assessbot_admins) and ADMIN not in (assignment.recruiter or "")
