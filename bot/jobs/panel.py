"""The recruiter's cards, kept current: one progress card per application and recipient, updated in place.

A refresh sends the progress card once the application's first interview has ended (and the calibration summary
once everyone has submitted), remembering each message id; later refreshes PATCH those messages. Refreshes are
queued by changes (bot.store.panel.touch) and wait a moment, so a burst of submissions gives one update and a
message is never updated more often than Feishu allows (5 a second). Nudges and sharing run here too.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from bot import auth, panel
from bot.actions import NotMine, Nudge, OpenComment, OpenForm, Share, ShowSummary, Snooze
from bot.feishu.client import FeishuError
from bot.jobs.delivery import Private, Purpose, deliver
from bot.panel import Panel
from bot.store import Job, NewJob
from bot.store.panel import REFRESH
from bot.views import interview_view, when
from cards.panel import progress_card, summary_card
from cards.reminder import reminder_card

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.panel")

NUDGE = "panel-nudge"
SHARE = "panel-share"
NUDGE_EVERY = 3600.0  # one nudge an hour per application
LEASE = 60.0
GONE = frozenset({230031, 230110})  # the message is older than 14 days, or was deleted: send a new one


def refresh_job(application: str, delay: float = 0.0) -> NewJob:
    return NewJob(REFRESH, {"application": application}, delay=max(delay, 0.0))


def recipients(ctx: Context, found: Panel) -> list[str]:
    """Who follows an application: its recruiter(s) and the admins."""
    return list(dict.fromkeys([*found.recruiters, *ctx.settings.assessbot_admins]))


def summary_for(ctx: Context, found: Panel, viewer: str, page: int = 0) -> dict | None:
    """The calibration summary as `viewer` may see it (None: not at all)."""
    seen = panel.view(ctx.settings, viewer, found)
    if seen is None:
        return None
    manage = auth.may_manage_panel(ctx.settings, viewer, found.recruiters).allowed
    return summary_card(seen, panel.summarise(seen, ctx.rubric), page=page, zone=_zone(ctx),
                        share=Share(found.application_id).encode() if manage else None,
                        comment=lambda seat: OpenComment(seat.assignment).encode(),
                        turn=lambda n: ShowSummary(found.application_id, n).encode())


def progress_for(ctx: Context, found: Panel, viewer: str) -> dict | None:
    """The progress card as `viewer` may see it (None: not at all)."""
    seen = panel.view(ctx.settings, viewer, found)
    if seen is None:
        return None
    manage = auth.may_manage_panel(ctx.settings, viewer, found.recruiters).allowed
    return progress_card(seen, now=ctx.clock(), zone=_zone(ctx),
                         nudge=Nudge(found.application_id).encode() if manage else None,
                         summary=ShowSummary(found.application_id, fresh=True).encode())


def _zone(ctx: Context) -> tzinfo:
    return when(ctx, 0).tzinfo or UTC


def _uuid(*parts: str) -> str:
    return "pn-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


class Refresh:
    """Send or update an application's progress card (and its summary, once complete) for each recipient."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx, application = self.ctx, job.payload["application"]
        if job.payload.get("planned"):  # an interview ended: join any refresh already queued
            ctx.store.touch_panel(application)
            return
        if not ctx.store.lease_panel(application, LEASE):
            ctx.store.touch_panel(application)  # another runner is on it: come back after it
            return
        try:
            self._refresh(application)
        finally:
            ctx.store.release_panel(application)

    def _refresh(self, application: str) -> None:
        ctx = self.ctx
        found = panel.load(ctx, application)
        if found is None or ctx.clock() < found.first_end:
            return  # no such application, or no interview has ended yet
        sent = ctx.store.panel_messages(application)
        for person in recipients(ctx, found):
            self._show(application, person, "progress", progress_for(ctx, found, person), sent)
            if found.complete or (person, "summary") in sent:
                self._show(application, person, "summary", summary_for(ctx, found, person), sent)
        log.info("panel cards current", extra={"application": application, "submitted": found.submitted})

    def _show(self, application: str, person: str, kind: str, card: dict | None, sent: dict) -> None:
        if card is None:
            return
        message_id = sent.get((person, kind))
        if message_id is not None:
            try:
                self.ctx.feishu.update_card(message_id, card)
                return
            except FeishuError as err:
                if err.code not in GONE:
                    raise
        uuid = _uuid(application, person, kind, message_id or "")
        written = self.ctx.feishu.send_card(person, card, uuid)
        new_id = written.data.get("message_id")
        if new_id:
            self.ctx.store.remember_message(application, person, kind, new_id)

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """The next change refreshes the cards again."""


class NudgeMissing:
    """Send the reminder card now to the interviewers still due (at most once an hour per application)."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx, application, actor = self.ctx, job.payload["application"], job.payload["actor"]
        now = ctx.clock()
        found = panel.load(ctx, application)
        if found is None:
            return
        marked = ctx.store.panel_state(application).nudged_at
        mine = marked is not None and marked >= job.created_at  # this job's earlier attempt took the hour
        if not mine and not ctx.store.mark_panel(application, "nudged_at", unless_since=now - NUDGE_EVERY):
            ctx.store.record(actor, None, "panel_nudge", "limited", {"application": application})
            return
        due = found.due(now)
        for seat in due:
            assignment = ctx.store.assignment_by_id(seat.assignment)
            if assignment is None or not assignment.open:
                continue
            card = reminder_card(interview_view(ctx, assignment), fill=OpenForm(assignment.key).encode(),
                                 later=Snooze(assignment.id).encode(), not_mine=NotMine(assignment.id).encode())
            deliver(ctx, Private(assignment.interviewer, f"nudge:{job.id}:{assignment.id}"), card, Purpose.REMINDER)
        ctx.store.record(actor, None, "panel_nudge", "sent", {"application": application,
                                                              "to": [s.interviewer for s in due]})
        ctx.store.touch_panel(application, delay=0.0)

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """The reminders and the digest still run."""


class ShareSummary:
    """Let the panel's interviewers see the summary, and send it to each of them."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx, application = self.ctx, job.payload["application"]
        ctx.store.mark_panel(application, "shared_at")
        found = panel.load(ctx, application)
        if found is None:
            return
        for person in found.interviewers:
            card = summary_for(ctx, found, person)
            if card is not None:
                deliver(ctx, Private(person, f"share:{application}:{person}"), card, Purpose.PANEL)
        ctx.store.touch_panel(application, delay=0.0)

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """The recruiter may share again."""
