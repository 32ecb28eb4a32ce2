"""/panel: a recruiter's candidates — the list with progress, one candidate's calibration summary — and the
buttons of the panel cards (remind the missing ones, share with the panel, pages, a comment in full)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth, panel
from bot.actions import Nudge, OpenComment, Share, ShowSummary
from bot.commands.base import Command, Outcome, Request, Wrong
from bot.commands.registry import command, on_action
from bot.contract import NewJob, NudgePanel, Purpose, SharePanel
from bot.display import summary_for, when
from bot.panel import NUDGE_EVERY
from bot.rubric import Rubric
from cards.elements import toast
from cards.panel import comment_card, panels_card

ACTION = "panel"
NOT_SCHEDULED = toast("info", "这位候选人已不在日程中。", "This candidate is no longer scheduled.")


@command
@dataclass(frozen=True)
class Panels(Command):
    """Show the recruiter's open panels, or one candidate's calibration summary."""

    name: ClassVar[str] = "panel"
    aliases: ClassVar[tuple[str, ...]] = ("面板", "汇总", "summary")
    usage: ClassVar[str] = "/panel [candidate | application_id]"
    summary_zh: ClassVar[str] = ("招聘负责人查看候选人的面试进度；加上候选人姓名或申请 ID 查看校准汇总"
                                 "（结论、各维度评分与分歧、评语）。")
    summary_en: ClassVar[str] = ("For recruiters: your candidates' interview progress; name a candidate or an "
                                 "application id for the calibration summary (conclusions, scores and where the "
                                 "panel disagrees, comments).")
    examples: ClassVar[tuple[str, ...]] = ("/panel", "/panel 张伟", "汇总 app-7301")

    word: str = ""

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Panels:
        word = " ".join(args.split())
        if len(word) > 200:
            raise Wrong("候选人姓名或申请 ID 过长。", "That candidate name or application id is too long.")
        return cls(word)

    def handle(self, req: Request) -> Outcome:
        if not self.word:
            return _list(req)
        ctx = req.ctx
        found = ctx.store.find_applications(self.word)
        panels = [p for p in (panel.load(ctx, a, req.names) for a in found) if p is not None]
        seen = [p for p in panels if panel.view(ctx.settings, req.actor, p) is not None]
        if not seen:  # unknown and not theirs are refused alike: a name says nothing about who exists
            return _refused(req, None, auth.PANEL_DENIED)
        jobs = [req.send(card, Purpose.PANEL, private=True)
                for card in (summary_for(ctx, p, req.actor) for p in seen[:5]) if card is not None]
        return Outcome(jobs=jobs, audits=[{"actor": req.actor, "assessment_key": None, "action": ACTION, "result": "ok",
                                           "detail": {"applications": [p.application_id for p in seen[:5]]}}])


def _list(req: Request) -> Outcome:
    """The person's open applications (all of them for an admin), with progress."""
    ctx = req.ctx
    admin = auth.is_admin(ctx.settings, req.actor)
    rows = ctx.store.applications(None if admin else req.actor)
    panels = [panel.build(r, ctx.store.panel_state(a), lambda key: ctx.store.known(key).state, req.names)
              for a, r in rows.items()]
    open_ones = [p for p in panels if not p.complete and panel.view(ctx.settings, req.actor, p) is not None]
    card = panels_card(open_ones, now=ctx.clock(),
                       open_value=lambda p: ShowSummary(p.application_id, fresh=True).encode())
    return Outcome(jobs=[req.send(card, Purpose.PANEL, private=True)])


def _refused(req: Request, application: str | None, decision: auth.Decision) -> Outcome:
    """Refused and audited (the application named when it is an id the bot knows, never a typed name)."""
    outcome = req.deny(None, ACTION, decision)
    if application:
        for audit in outcome.audits:
            audit["detail"]["application"] = application
    return outcome


@on_action(ShowSummary)
def show_summary(req: Request, action: ShowSummary) -> Outcome:
    """A page of the summary: in place, or as a new message from the list or the progress card."""
    found = panel.load(req.ctx, action.application, req.names)
    card = summary_for(req.ctx, found, req.actor, action.page) if found is not None else None
    if card is None:
        return _refused(req, action.application, auth.PANEL_DENIED)
    if action.fresh:
        return Outcome(jobs=[req.send(card, Purpose.PANEL, private=True)],
                       toast=toast("success", "已发送汇总。", "Summary sent."))
    return Outcome(card=card)


@on_action(OpenComment)
def open_comment(req: Request, action: OpenComment) -> Outcome:
    """One interviewer's comments in full, sent as a card of its own."""
    ctx = req.ctx
    assignment = ctx.store.assignment_by_id(action.assignment)
    found = panel.load(ctx, assignment.application_id, req.names) if assignment and assignment.application_id else None
    seen = panel.view(ctx.settings, req.actor, found) if found is not None else None
    seat = next((s for s in seen.seats if s.assignment == action.assignment), None) if seen else None
    if seen is None or seat is None or seat.assessment is None:
        return _refused(req, assignment.application_id if assignment else None, auth.PANEL_DENIED)
    said = dict(panel.summarise(seen, lambda s: ctx.forms.rubric_for(s.key)).comments).get(seat, "")
    return Outcome(jobs=[req.send(comment_card(seen, seat, said), Purpose.PANEL, private=True)],
                   toast=toast("success", "已发送评语全文。", "Comments sent in full."))


@on_action(Nudge)
def nudge(req: Request, action: Nudge) -> Outcome:
    """Send the reminder now to the interviewers still due: at most once an hour per application, audited."""
    ctx = req.ctx
    found = panel.load(ctx, action.application, req.names)
    if found is None:
        return Outcome(toast=NOT_SCHEDULED)
    decision = auth.may_manage_panel(ctx.settings, req.actor, found.recruiters)
    if not decision.allowed:
        return _refused(req, action.application, decision)
    now = ctx.clock()
    audit = {"actor": req.actor, "assessment_key": None, "action": "panel_nudge", "detail":
             {"application": action.application, "via": req.via}}
    last = found.state.nudged_at
    if last is not None and now - last < NUDGE_EVERY:
        again = when(ctx, last + NUDGE_EVERY)
        return Outcome(audits=[{**audit, "result": "limited"}], toast=toast(
            "info", f"一小时内已提醒过，{again:%H:%M} 后可再次提醒。",
            f"Already reminded within the hour; you can remind again at {again:%H:%M}."))
    due = found.due(now)
    if not due:
        return Outcome(toast=toast("info", "没有待提交的面试官。", "Nobody is due."))
    job = NewJob(NudgePanel(application=action.application, actor=req.actor, event_id=req.event_id))
    audit["detail"]["to"] = [s.interviewer for s in due]
    plural = "s" if len(due) > 1 else ""
    return Outcome(jobs=[job], audits=[{**audit, "result": "ok"}], toast=toast(
        "success", f"正在提醒 {len(due)} 位面试官。", f"Reminding {len(due)} interviewer{plural}."))


@on_action(Share)
def share(req: Request, action: Share) -> Outcome:
    """Let the panel's interviewers see the summary (audited); each of them is sent it."""
    ctx = req.ctx
    found = panel.load(ctx, action.application, req.names)
    if found is None:
        return Outcome(toast=NOT_SCHEDULED)
    decision = auth.may_manage_panel(ctx.settings, req.actor, found.recruiters)
    if not decision.allowed:
        return _refused(req, action.application, decision)
    if found.state.shared_at is not None:
        return Outcome(toast=toast("info", "已经共享过了。", "Already shared with the panel."))
    job = NewJob(SharePanel(application=action.application, actor=req.actor, event_id=req.event_id))
    audit = {"actor": req.actor, "assessment_key": None, "action": "panel_share", "result": "ok",
             "detail": {"application": action.application, "to": list(found.interviewers)}}
    return Outcome(jobs=[job], audits=[audit], toast=toast("success", "已共享给面试官。", "Shared with the panel."))
