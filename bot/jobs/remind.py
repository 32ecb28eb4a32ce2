"""Reminders after each interview and one digest a working day, as durable jobs with a run time.

A reminder job carries the assignment and the time it was planned for; the assignment's `remind_at` is the
one reminder now wanted, so a reminder that was re-planned (snoozed, the interview moved) or is no longer
needed (submitted, not mine) finds nothing to do. A digest is sent at most once a day to a person (a dedup
record `digest:<person>:<date>`; Feishu's uuid covers two instances racing within the hour).

Each interview is announced once a round: a reminder takes its assignment before it is sent (so a digest the same
day leaves it out), and a digest takes the assignments it lists before it is sent (so their pending reminders find
nothing to do). What is taken stays taken across a crash: the retried job sends the same card with the same uuid.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, time

from bot import display, metrics
from bot.actions import NotMine, OpenForm, Snooze
from bot.contract import Digest, Job, Private, Purpose, Remind
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver
from bot.schedule.planner import digest_job, first_digest, status_jobs, work_time
from bot.store import Assignment
from cards.notice import text_card
from cards.reminder import digest_card, reminder_card

log = logging.getLogger("assessbot.jobs.remind")


class SendReminder(Executor):
    """Send one reminder card, unless the assignment no longer wants it."""

    payload = Remind

    def run(self, job: Job) -> None:
        ctx, planned = self.ctx, job.payload
        assert isinstance(planned, Remind)
        assignment = ctx.store.assignment_by_id(planned.assignment)
        if assignment is None or not assignment.open:
            return  # submitted or stopped since
        if not ctx.store.claim_reminder(assignment.id, planned.at, f"reminded:{job.id}"):
            return  # re-planned since, or taken into a digest
        interview = display.interview_view(ctx, assignment)
        form = ctx.forms.choose(assignment.key, assignment).rubric
        if form.hire:  # the interviewer knows which form waits (the local rubric goes unnamed)
            interview = replace(interview, form=(form.name, form.label_en))
        card = reminder_card(interview, fill=OpenForm(assignment.key).encode(),
                             later=Snooze(assignment.id).encode(), not_mine=NotMine(assignment.id).encode())
        source = f"remind:{assignment.id}:{int(planned.at)}"
        deliver(ctx, Private(assignment.interviewer, source), card, Purpose.REMINDER)
        metrics.REMINDERS.inc()
        now = ctx.clock()
        first = first_digest(work_time(ctx.settings), now, ctx.settings.assessbot_digest_at)
        ctx.store.accept([], [digest_job(assignment.interviewer, first - now), *status_jobs([assignment])])
        log.info("reminder sent", extra={"job_id": job.id, "assignment": assignment.id})


class SendDigest(Executor):
    """Once a working day: everything a person still owes, after telling recruiters of the long overdue."""

    payload = Digest

    def run(self, job: Job) -> None:
        assert isinstance(job.payload, Digest)
        ctx, person = self.ctx, job.payload.person
        work, now = work_time(ctx.settings), ctx.clock()
        today = datetime.fromtimestamp(now, UTC).astimezone(work.zone)
        day = f"{today:%Y-%m-%d}"
        mark = f"digest:{person}:{day}"
        if ctx.store.seen(mark):  # sent today: what came due since waits for the next one
            self._plan_next(person, today, now, any(a.escalated_at is None for a in ctx.store.due(person, now)))
            return
        start = datetime.combine(today.date(), time(0, 0), tzinfo=work.zone).timestamp()
        waiting, changed, chosen = False, [], []
        for assignment in ctx.store.due(person, now):
            if assignment.remind_at is not None and assignment.remind_at > now:
                waiting = True  # its own reminder (first or snoozed) comes first
                continue
            if assignment.reminded_at is not None and assignment.reminded_at >= start:
                continue  # its own reminder told them today: listed from the next working day on
            since = datetime.fromtimestamp(assignment.first_reminded_at or now, UTC)
            if work.working_days_between(since, today) >= ctx.settings.assessbot_remind_days:
                if assignment.escalated_at is None:
                    self._escalate(assignment)
                    changed.append(assignment)
                continue
            chosen.append(assignment)
        if chosen:  # taken before the send; an attempt after a crash finds them taken and sends the same list
            ctx.store.claim_digest(person, day, start, [a.id for a in chosen], f"digest-take:{person}:{day}")
        listed = ctx.store.digested(person, day)
        if listed:
            due = [display.interview_view(ctx, a) for a in listed]
            card = digest_card(due, now=today, fill={i.key: OpenForm(i.key).encode() for i in due})
            deliver(ctx, Private(person, mark), card, Purpose.DIGEST)
            ctx.store.accept([mark], [])
            changed.extend(a for a in listed if a.first_reminded_at is None)
            log.info("digest sent", extra={"job_id": job.id, "due": len(due)})
        if changed:  # reminded or overdue now: the tables they came from say so
            ctx.store.accept([], status_jobs(changed))
        self._plan_next(person, today, now, bool(listed or waiting or chosen))

    def _plan_next(self, person: str, today: datetime, now: float, wanted: bool) -> None:
        """One chain a person: the next working day's digest is planned once, while anything is still due."""
        if wanted:
            settings = self.ctx.settings
            following = work_time(settings).next_digest(today, settings.assessbot_digest_at).timestamp()
            self.ctx.store.accept([f"digest-plan:{person}:{today:%Y-%m-%d}"], [digest_job(person, following - now)])

    def _escalate(self, assignment: Assignment) -> None:
        """Tell the recruiter (or, with none, the admins) once that an interviewer has not answered."""
        ctx, days = self.ctx, self.ctx.settings.assessbot_remind_days
        who = [assignment.recruiter] if assignment.recruiter else list(ctx.settings.assessbot_admins)
        name = display.Names(ctx, live=True)(assignment.interviewer)
        card = text_card(f"{assignment.candidate} 的面试反馈已逾期 {days} 个工作日仍未提交（面试官 {name}）。",
                         f"Feedback on {assignment.candidate} is still missing after {days} working days "
                         f"(interviewer {name}).", "orange")
        for person in who:
            deliver(ctx, Private(person, f"overdue:{assignment.id}"), card, Purpose.ESCALATED)
        ctx.store.update_assignment(assignment.id, escalated_at=ctx.clock())
        ctx.store.record("bot", assignment.key, "escalate", "ok", {"to": who})
