"""Reminders after each interview and one digest a working day, as durable jobs with a run time.

A reminder job carries the assignment and the time it was planned for; the assignment's `remind_at` is the
one reminder now wanted, so a reminder that was re-planned (snoozed, the interview moved) or is no longer
needed (submitted, not mine) finds nothing to do. A digest is sent at most once a day to a person (a dedup
record `digest:<person>:<date>`; Feishu's uuid covers two instances racing within the hour).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot import metrics
from bot.actions import NotMine, OpenForm, Snooze
from bot.jobs.delivery import Private, Purpose, deliver
from bot.schedule.worktime import WorkTime
from bot.store import Assignment, Job, NewJob
from bot.store.panel import REFRESH
from bot.views import interview_view
from cards.notice import text_card
from cards.reminder import digest_card, reminder_card

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context
    from bot.settings import Settings

log = logging.getLogger("assessbot.jobs.remind")

REMIND = "remind"
DIGEST = "digest"
RECENT = 24 * 3600.0  # an interview that ended longer ago than this, found overdue at import, goes to the digest
BURST = 3  # at most this many overdue reminders per person from one import; the rest go to the digest


def work_time(settings: Settings) -> WorkTime:
    return WorkTime.parse(settings.assessbot_work_hours, settings.assessbot_work_days, settings.assessbot_timezone)


def remind_job(assignment: int, at: float, delay: float) -> NewJob:
    return NewJob(REMIND, {"assignment": assignment, "at": at}, delay=delay)


def digest_job(person: str, delay: float) -> NewJob:
    return NewJob(DIGEST, {"person": person}, delay=delay)


def first_digest(work: WorkTime, now: float, digest_at: str) -> float:
    """The first digest after a reminder: on the next working day, never the day of the reminder itself."""
    day = datetime.fromtimestamp(now, UTC).astimezone(work.zone).date() + timedelta(days=1)
    midnight = datetime.combine(day, time(0, 0), tzinfo=work.zone)
    return work.next_digest(midnight - timedelta(seconds=1), digest_at).timestamp()


def _same(planned: float | None, at: float) -> bool:
    """Whether a job's time is the one still planned (times pass through JSON and the database's floats)."""
    return planned is not None and abs(planned - at) < 0.5


class Planner:
    """The reminders of new or changed assignments, for one import (it counts overdue ones per person)."""

    def __init__(self, settings: Settings, now: float):
        self.work = work_time(settings)
        self.delay = settings.assessbot_remind_after_minutes
        self.now = now
        self._overdue: dict[str, int] = {}
        self._digested: set[str] = set()  # people this import already gave a digest job
        self._panels: set[tuple[str, float]] = set()  # (application, end) refreshes this import already plans

    def __call__(self, after: Assignment, before: Assignment | None) -> tuple[float | None, list[NewJob]]:
        """When to remind of `after` (None: not individually), and the jobs that do it; when its interview ends,
        the recruiter's progress card of its application is sent or brought up to date."""
        remind_at, planned = self._reminders(after, before)
        mark = (after.application_id or "", after.end_at)
        if after.application_id and mark not in self._panels:
            self._panels.add(mark)
            refresh = {"application": after.application_id, "planned": True}
            planned = [*planned, NewJob(REFRESH, refresh, delay=max(after.end_at - self.now, 0.0))]
        return remind_at, planned

    def _reminders(self, after: Assignment, before: Assignment | None) -> tuple[float | None, list[NewJob]]:
        if not after.open:
            return None, []
        if before is not None and before.end_at == after.end_at and (before.remind_at or before.first_reminded_at):
            return before.remind_at, []
        end = datetime.fromtimestamp(after.end_at, UTC)
        first = self.work.first_reminder(end, self.delay).timestamp()
        if first < self.now:  # overdue already: now, unless it is old or one of many
            count = self._overdue[after.interviewer] = self._overdue.get(after.interviewer, 0) + 1
            soon = self.work.earliest(datetime.fromtimestamp(self.now, UTC)).timestamp()
            if self.now - after.end_at > RECENT or count > BURST:
                if after.interviewer in self._digested:
                    return None, []
                self._digested.add(after.interviewer)
                return None, [digest_job(after.interviewer, soon - self.now)]
            first = soon
        return first, [remind_job(after.id, first, first - self.now)]


class Remind:
    """Send one reminder card, unless the assignment no longer wants it."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx = self.ctx
        assignment = ctx.store.assignment_by_id(job.payload["assignment"])
        if assignment is None or not assignment.open or not _same(assignment.remind_at, job.payload["at"]):
            return  # submitted, stopped, or re-planned since
        interview = interview_view(ctx, assignment)
        card = reminder_card(interview, fill=OpenForm(assignment.key).encode(),
                             later=Snooze(assignment.id).encode(), not_mine=NotMine(assignment.id).encode())
        source = f"remind:{assignment.id}:{int(job.payload['at'])}"
        deliver(ctx, Private(assignment.interviewer, source), card, Purpose.REMINDER)
        metrics.REMINDERS.inc()
        now = ctx.clock()
        ctx.store.update_assignment(assignment.id, remind_at=None,
                                    first_reminded_at=assignment.first_reminded_at or now)
        first = first_digest(work_time(ctx.settings), now, ctx.settings.assessbot_digest_at)
        ctx.store.accept([], [digest_job(assignment.interviewer, first - now)])
        log.info("reminder sent", extra={"job_id": job.id, "assignment": assignment.id})

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """The digest will list it again."""


class Digest:
    """Once a working day: everything a person still owes, after telling recruiters of the long overdue."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        ctx, person = self.ctx, job.payload["person"]
        work, now = work_time(ctx.settings), ctx.clock()
        today = datetime.fromtimestamp(now, UTC).astimezone(work.zone)
        mark = f"digest:{person}:{today:%Y-%m-%d}"
        if ctx.store.seen(mark):
            return
        due, waiting = [], False
        for assignment in ctx.store.due(person, now):
            if assignment.remind_at is not None and assignment.remind_at > now:
                waiting = True  # its own reminder (first or snoozed) comes first
                continue
            since = datetime.fromtimestamp(assignment.first_reminded_at or now, UTC)
            if work.working_days_between(since, today) >= ctx.settings.assessbot_remind_days:
                if assignment.escalated_at is None:
                    self._escalate(assignment)
                continue
            if assignment.first_reminded_at is None:
                ctx.store.update_assignment(assignment.id, first_reminded_at=now)
            due.append(interview_view(ctx, assignment))
        if due:
            card = digest_card(due, now=today, fill={i.key: OpenForm(i.key).encode() for i in due})
            deliver(ctx, Private(person, mark), card, Purpose.DIGEST)
            ctx.store.accept([mark], [])
            log.info("digest sent", extra={"job_id": job.id, "due": len(due)})
        if due or waiting:  # one chain a person: the next day's digest is planned once
            following = work.next_digest(today, ctx.settings.assessbot_digest_at).timestamp()
            ctx.store.accept([f"digest-plan:{person}:{today:%Y-%m-%d}"], [digest_job(person, following - now)])

    def _escalate(self, assignment: Assignment) -> None:
        """Tell the recruiter (or, with none, the admins) once that an interviewer has not answered."""
        ctx, days = self.ctx, self.ctx.settings.assessbot_remind_days
        who = [assignment.recruiter] if assignment.recruiter else list(ctx.settings.assessbot_admins)
        name = ctx.feishu.user_name(assignment.interviewer) or assignment.interviewer
        card = text_card(f"{assignment.candidate} 的面试反馈已逾期 {days} 个工作日仍未提交（面试官 {name}）。",
                         f"Feedback on {assignment.candidate} is still missing after {days} working days "
                         f"(interviewer {name}).", "orange")
        for person in who:
            deliver(ctx, Private(person, f"overdue:{assignment.id}"), card, Purpose.ESCALATED)
        ctx.store.update_assignment(assignment.id, escalated_at=ctx.clock())
        ctx.store.record("bot", assignment.key, "escalate", "ok", {"to": who})

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """Tomorrow's reminder chain starts again from the next reminder."""
