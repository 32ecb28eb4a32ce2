"""The reminder card's actions: remind me later, and not my interview (the recruiter is told)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import auth
from bot.actions import NotMine, OpenForm, Snooze
from bot.commands.base import Outcome, Request
from bot.commands.registry import on_action
from bot.contract import NewJob, Private, Purpose, Send
from bot.display import interview_view, when
from bot.schedule.planner import remind_job, status_jobs, work_time
from bot.store import Assignment
from cards.elements import toast
from cards.notice import text_card
from cards.reminder import not_mine_done_card, not_mine_question_card


def _mine(req: Request, assignment_id: int) -> Assignment | Outcome:
    """The assignment, when the person clicking is its interviewer (or an admin); else the refusal."""
    assignment = req.ctx.store.assignment_by_id(assignment_id)
    if assignment is None:
        gone = toast("info", "这场面试已不在日程中。", "This interview is no longer scheduled.")
        return Outcome(toast=gone)
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
                   toast=note)


@on_action(NotMine)
def not_mine(req: Request, action: NotMine) -> Outcome:
    """Stop the reminders of an interview the person did not hold, and tell the recruiter (or the admins)."""
    found = _mine(req, action.assignment)
    if isinstance(found, Outcome):
        return found
    ctx = req.ctx
    interview = interview_view(ctx, found)
    if not action.sure:  # asked once more, with the candidate still on the card
        return Outcome(card=not_mine_question_card(
            interview, sure=NotMine(found.id, True).encode(), fill=OpenForm(found.key).encode(),
            later=Snooze(found.id).encode()))
    who = [found.recruiter] if found.recruiter else list(ctx.settings.assessbot_admins)
    name = req.names(req.actor)
    card = text_card(f"{name} 表示与 {found.candidate} 的面试（{found.interview_id}）不是自己的；"
                     "提醒已停止，请核对日程。",
                     f"{name} says the interview with {found.candidate} ({found.interview_id}) is not theirs; "
                     "reminders stopped. Please check the schedule.", "orange")
    tell = [NewJob(Send(card=card, target=Private(person, f"notmine:{found.id}"), purpose=Purpose.NOT_MINE,
                        event_id=req.event_id)) for person in who]
    audit = {"actor": req.actor, "assessment_key": found.key, "action": "not_mine", "result": "ok",
             "detail": {"assignment": found.id, "told": who}}
    done = not_mine_done_card(interview)
    stop = (found.id, {"stopped": "not_mine", "remind_at": None})
    return Outcome(jobs=[*tell, *status_jobs([found])], audits=[audit], assignment_updates=[stop],
                   toast=toast("success", "已通知招聘负责人", "The recruiter has been told"), card=done)
