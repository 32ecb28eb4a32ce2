"""The reminder card's actions: remind me later, and not my interview (the recruiter is told)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import auth
from bot.actions import NotMine, Snooze
from bot.commands.base import Outcome, Request
from bot.commands.registry import on_action
from bot.jobs.delivery import Private, Purpose
from bot.jobs.remind import remind_job, work_time
from bot.jobs.send import KIND as SEND
from bot.store import Assignment, NewJob
from bot.views import when
from cards.elements import toast
from cards.notice import text_card


def _mine(req: Request, assignment_id: int) -> Assignment | Outcome:
    """The assignment, when the person clicking is its interviewer (or an admin); else the refusal."""
    assignment = req.ctx.store.assignment_by_id(assignment_id)
    if assignment is None:
        gone = toast("info", "这场面试已不在日程中。", "This interview is no longer scheduled.")
        return Outcome(answer={"toast": gone})
    if assignment.interviewer != req.actor and not auth.is_admin(req.ctx.settings, req.actor):
        decision = auth.Decision(False, "not the interviewer", "这条提醒属于其他面试官。",
                                 "This reminder belongs to another interviewer.")
        return req.deny(assignment.key, "remind", decision)
    return assignment


@on_action(Snooze)
def remind_later(req: Request, action: Snooze) -> Outcome:
    """Plan the next reminder: the next working morning, or three hours from now if that is sooner."""
    found = _mine(req, action.assignment)
    if isinstance(found, Outcome):
        return found
    now = req.ctx.clock()
    at = work_time(req.ctx.settings).snooze(datetime.fromtimestamp(now, UTC)).timestamp()
    shown = when(req.ctx, at)
    note = toast("success", f"好的，{shown:%m-%d %H:%M} 再提醒你。", f"OK, I'll remind you at {shown:%m-%d %H:%M}.")
    return Outcome(jobs=[remind_job(found.id, at, at - now)], assignment_updates=[(found.id, {"remind_at": at})],
                   answer={"toast": note})


@on_action(NotMine)
def not_mine(req: Request, action: NotMine) -> Outcome:
    """Stop the reminders of an interview the person did not hold, and tell the recruiter (or the admins)."""
    found = _mine(req, action.assignment)
    if isinstance(found, Outcome):
        return found
    ctx = req.ctx
    who = [found.recruiter] if found.recruiter else list(ctx.settings.assessbot_admins)
    name = ctx.feishu.user_name(req.actor) or req.actor
    card = text_card(f"{name} 表示与 {found.candidate} 的面试（{found.interview_id}）不是自己的；"
                     "提醒已停止，请核对日程。",
                     f"{name} says the interview with {found.candidate} ({found.interview_id}) is not theirs; "
                     "reminders stopped. Please check the schedule.", "orange")
    tell = [NewJob(SEND, {"card": card, "target": Private(person, f"notmine:{found.id}").encode(),
                          "purpose": Purpose.NOT_MINE.value, "event_id": req.event_id}) for person in who]
    audit = {"actor": req.actor, "assessment_id": found.key, "action": "not_mine", "result": "ok",
             "detail": {"assignment": found.id, "told": who}}
    done = text_card("已记录：这不是你的面试，招聘负责人已收到通知，不会再提醒你。",
                     "Noted: not your interview. The recruiter has been told; no more reminders.", "grey")
    stop = (found.id, {"stopped": "not_mine", "remind_at": None})
    return Outcome(jobs=tell, audits=[audit], assignment_updates=[stop],
                   answer={"toast": toast("success", "已通知招聘负责人", "The recruiter has been told"),
                           "card": {"type": "raw", "data": done}})
