"""The recruiter's cards, kept current: one progress card per application and recipient, updated in place.

A refresh sends the progress card once the application's first interview has ended (and the calibration summary
once everyone has submitted), remembering each message id; later refreshes PATCH those messages. Refreshes are
queued by changes (bot.store.panel.touch) and wait a moment, so a burst of submissions gives one update and a
message is never updated more often than Feishu allows (5 a second). Nudges and sharing run here too.
"""

from __future__ import annotations

import hashlib
import logging

from bot import display, panel
from bot.actions import NotMine, OpenForm, Snooze
from bot.contract import Job, NudgePanel, Private, Purpose, RefreshPanel, SharePanel
from bot.display import progress_for, summary_for
from bot.feishu.errors import FeishuError
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver
from bot.panel import NUDGE_EVERY, recipients
from cards.reminder import reminder_card

log = logging.getLogger("assessbot.jobs.panel")

LEASE = 60.0
EXPIRED_MESSAGE = frozenset({230031, 230110})  # the message is older than 14 days, or was deleted: send a new one


def _uuid(*parts: str) -> str:
    return "pn-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


class Refresh(Executor):
    """Send or update an application's progress card (and its summary, once complete) for each recipient."""

    payload = RefreshPanel

    def run(self, job: Job) -> None:
        refresh = job.payload
        assert isinstance(refresh, RefreshPanel)
        ctx, application = self.ctx, refresh.application
        if refresh.planned:  # an interview ended: join any refresh already queued
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
        found = panel.load(ctx, application, display.Names(ctx, live=True))
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
                if err.code not in EXPIRED_MESSAGE:
                    raise
        uuid = _uuid(application, person, kind, message_id or "")
        written = self.ctx.feishu.send_card(person, card, uuid)
        new_id = written.data.get("message_id")
        if new_id:
            self.ctx.store.remember_message(application, person, kind, new_id)


class NudgeMissing(Executor):
    """Send the reminder card now to the interviewers still due (at most once an hour per application)."""

    payload = NudgePanel

    def run(self, job: Job) -> None:
        nudge = job.payload
        assert isinstance(nudge, NudgePanel)
        ctx, application, actor = self.ctx, nudge.application, nudge.actor
        now = ctx.clock()
        found = panel.load(ctx, application, display.Names(ctx, live=True))
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
            card = reminder_card(display.interview_view(ctx, assignment), fill=OpenForm(assignment.key).encode(),
                                 later=Snooze(assignment.id).encode(), not_mine=NotMine(assignment.id).encode())
            deliver(ctx, Private(assignment.interviewer, f"nudge:{job.id}:{assignment.id}"), card, Purpose.REMINDER)
        ctx.store.record(actor, None, "panel_nudge", "sent", {"application": application,
                                                              "to": [s.interviewer for s in due]})
        ctx.store.touch_panel(application, delay=0.0)


class ShareSummary(Executor):
    """Let the panel's interviewers see the summary, and send it to each of them."""

    payload = SharePanel

    def run(self, job: Job) -> None:
        share = job.payload
        assert isinstance(share, SharePanel)
        ctx, application = self.ctx, share.application
        ctx.store.mark_panel(application, "shared_at")
        found = panel.load(ctx, application, display.Names(ctx, live=True))
        if found is None:
            return
        for person in found.interviewers:
            card = summary_for(ctx, found, person)
            if card is not None:
                deliver(ctx, Private(person, f"share:{application}:{person}"), card, Purpose.PANEL)
        ctx.store.touch_panel(application, delay=0.0)
