"""/assign: admins put an interviewer on an interview from the chat; the assignment and its reminder commit with
the message's acknowledgement."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.commands import registry
from bot.commands.base import CommandProblem
from bot.contract import Remind
from bot.store.schedule import external_id
from cards.errors import denied_card, problem_card
from cards.notice import text_card
from tests.support.ids import ADMIN, ALICE, BOB, SHANGHAI, make_settings
from tests.support.jobs import pending_work

INTERVIEW = "7412358746023518273"
BOB_MENTION = [{"key": "@_user_2", "id": {"open_id": BOB}, "name": "Bob"}]


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,))


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()


def cards(feishu) -> list[dict]:
    return [sent["card"] for sent in feishu.sent_cards()]


def test_an_admin_assigns_an_interviewer_and_the_reminder_is_planned(push, ctx, feishu):
    push.message(f'/assign {INTERVIEW} @_user_2 candidate=张伟 end=2026-12-07 15:00 job="Backend Engineer" '
                 "round=技术一面", sender=ADMIN, mentions=BOB_MENTION)
    (assignment,) = ctx.store.assignments_of(BOB)
    assert (assignment.interview_id, assignment.candidate, assignment.position, assignment.round) == (
        INTERVIEW, "张伟", "Backend Engineer", "技术一面")
    assert (assignment.start_at, assignment.end_at) == (at("2026-12-07 14:00"), at("2026-12-07 15:00"))
    assert assignment.key == external_id(INTERVIEW, BOB) and ctx.store.owner_of(assignment.key) == BOB
    assert assignment.remind_at == at("2026-12-07 16:00")  # an hour after the end, a Monday afternoon
    reminders = [ctx.store.job(n) for n in range(1, 4) if (ctx.store.job(n) or {}).get("kind") == "remind"]
    assert [job["payload"] for job in reminders] == [Remind(assignment=assignment.id, at=at("2026-12-07 16:00"))]
    ctx.runner.drain()
    assert cards(feishu) == [text_card(
        "已安排：张伟（Backend Engineer · 技术一面），2026-12-07 14:00–15:00。"
        "面试结束 60 分钟后（工作时间内）会提醒面试官填写反馈。",
        "Assigned: 张伟 (Backend Engineer · 技术一面), 2026-12-07 14:00–15:00. The interviewer will be reminded to "
        "give feedback 60 minutes after the end, in working time.", "green")]
    assert [(e.actor, e.action, e.result, e.detail) for e in ctx.store.history(assignment.key)] == [
        (ADMIN, "assign", "ok", {"interview_id": INTERVIEW, "interviewer": BOB, "change": "new"})]


def test_assigning_again_updates_the_same_assignment(push, ctx, feishu):
    push.message(f"/assign {INTERVIEW} @_user_2 candidate=张伟 end=2026-12-07 15:00", sender=ADMIN,
                 mentions=BOB_MENTION)
    push.message(f"/安排 {INTERVIEW} @_user_2 候选人=张伟 开始时间=2026-12-07 14:30 结束时间=2026-12-07 15:30",
                 sender=ADMIN, mentions=BOB_MENTION)
    (assignment,) = ctx.store.assignments_of(BOB)
    assert (assignment.start_at, assignment.end_at) == (at("2026-12-07 14:30"), at("2026-12-07 15:30"))
    assert assignment.remind_at == at("2026-12-07 16:30")
    ctx.runner.drain()
    assert cards(feishu)[1] == text_card(
        "已更新：张伟，2026-12-07 14:30–15:30。面试结束 60 分钟后（工作时间内）会提醒面试官填写反馈。",
        "Updated: 张伟, 2026-12-07 14:30–15:30. The interviewer will be reminded to give feedback 60 minutes after "
        "the end, in working time.", "green")


def test_a_clock_time_alone_is_today(push, ctx):
    push.message(f"/assign {INTERVIEW} @_user_2 candidate=张伟 start=9:00 end=10:00", sender=ADMIN,
                 mentions=BOB_MENTION)
    today = datetime.fromtimestamp(ctx.clock(), SHANGHAI).strftime("%Y-%m-%d")
    (assignment,) = ctx.store.assignments_of(BOB)
    assert (assignment.start_at, assignment.end_at) == (at(f"{today} 09:00"), at(f"{today} 10:00"))


def test_someone_who_is_not_an_admin_is_refused_and_audited(push, ctx, feishu):
    push.message(f"/assign {INTERVIEW} @_user_2 candidate=张伟 end=2026-12-07 15:00", sender=ALICE,
                 mentions=BOB_MENTION)
    ctx.runner.drain()
    assert ctx.store.assignments_of(BOB) == [] and pending_work(ctx.store) == {"done": 1}
    assert cards(feishu) == [denied_card("只有管理员和负责排期的人可以安排面试官。请联系管理员。",
                                              "Only administrators and the people who schedule interviews can "
                                              "assign interviewers. Ask an administrator.")]
    assert [(e.actor, e.action, e.result, e.detail) for e in ctx.store.history(actor=ALICE)] == [
        (ALICE, "assign", "denied", {"reason": "not a scheduler", "via": "message"})]


def test_fields_that_cannot_be_used_are_named(push, ctx, feishu):
    push.message(f"/assign {INTERVIEW} @_user_2 候选人=张伟 结束时间=2026-12-07 15:00 开始时间=2026-12-07 16:00",
                 sender=ADMIN, mentions=BOB_MENTION)
    ctx.runner.drain()
    usage = registry.usage("assign")
    assert cards(feishu) == [problem_card("结束时间：结束时间早于开始时间（2026-12-07 16:00）。",
                                               "结束时间: ends before the interview starts (2026-12-07 16:00).",
                                               usage_zh=usage, usage_en=usage)]
    assert ctx.store.assignments_of(BOB) == []


def test_an_end_that_is_not_a_time_is_the_only_problem_named(push, ctx, feishu):
    push.message(f"/assign {INTERVIEW} @_user_2 candidate=张伟 end=tomorrow", sender=ADMIN, mentions=BOB_MENTION)
    ctx.runner.drain()
    usage = registry.usage("assign")
    assert cards(feishu) == [problem_card(
        "end：“tomorrow”不是时间；请写成 2026-12-01 14:00 或 2026-12-01T14:00:00+08:00。",
        "end: 'tomorrow' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00.",
        usage_zh=usage, usage_en=usage)]


@pytest.mark.parametrize(("text", "en"), [
    ("/assign", "The interview id is missing (it comes right after the command)."),
    ("/assign 12! @_user_2 candidate=x end=10:00",
     "The interview id '12!' is not an id (use digits, letters, _ or -)."),
    ("/assign 1 candidate=x end=10:00", "The interviewer (@someone) is missing."),
    ("/assign 1 bob candidate=x end=10:00", "Name the interviewer with an @mention (or an open_id), not 'bob'."),
    ("/assign 1 @_user_2 end=10:00", "The candidate (candidate=…) is missing."),
    ("/assign 1 @_user_2 candidate=x", "The end time (end=…) is missing."),
    ("/assign 1 @_user_2 candidate=x end=10:00 colour=red", "There is no field 'colour'."),
    ("/assign 1 @_user_2 candidate=x end=10:00 候选人=y", "'候选人' is given twice."),
    ("/assign 1 @_user_2 candidate=x end=10:00 recruiter=bob", "recruiter= needs an @mention (or an open_id)."),
])
def test_commands_that_cannot_be_read_say_why(text, en):
    with pytest.raises(CommandProblem) as problem:
        registry.parse(text, {"@_user_2": BOB})
    assert problem.value.en == en and problem.value.usage == registry.usage("assign")
