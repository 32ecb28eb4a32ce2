"""The reminders a schedule plans: when to remind of a new or changed assignment, the digest that gathers the
overdue ones, and the recruiter's cards when an interview ends. A policy the imports and the reminder cards'
buttons use; the jobs it plans run after the acknowledgement (bot/jobs/remind.py, bot/jobs/panel.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.contract import Digest, LearnNames, NewJob, RefreshPanel, Remind, WriteStatus
from bot.schedule.worktime import WorkTime

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.store import Assignment

RECENT = 24 * 3600.0  # an interview that ended longer ago than this, found overdue at import, goes to the digest
BURST = 3  # a person with more overdue interviews than this in one import hears of them all in one digest


def work_time(settings: Settings) -> WorkTime:
    return WorkTime.parse(settings.assessbot_work_hours, settings.assessbot_work_days, settings.assessbot_timezone)


def remind_job(assignment: int, at: float, delay: float) -> NewJob:
    return NewJob(Remind(assignment=assignment, at=at), delay=delay)


def digest_job(person: str, delay: float) -> NewJob:
    return NewJob(Digest(person=person), delay=delay)


def status_jobs(assignments: Iterable[Assignment]) -> list[NewJob]:
    """The write-back of the tables these assignments came from, whose state just changed (reminded, submitted,
    overdue, stopped): one job per table."""
    return [NewJob(WriteStatus(source=source)) for source in sorted({a.source for a in assignments if a.source})]


def first_digest(work: WorkTime, now: float, digest_at: str) -> float:
    """The first digest after a reminder: on the next working day, never the day of the reminder itself."""
    day = datetime.fromtimestamp(now, UTC).astimezone(work.zone).date() + timedelta(days=1)
    midnight = datetime.combine(day, time(0, 0), tzinfo=work.zone)
    return work.next_digest(midnight - timedelta(seconds=1), digest_at).timestamp()


def same_time(planned: float | None, at: float) -> bool:
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
        self._people: set[str] = set()  # people this import already has a job learn the names of
        self._batch: dict[str, int] | None = None  # recently overdue interviews per person in the whole import

    def expect(self, rows: Iterable[dict]) -> None:
        """See the whole import first: a person with more than BURST interviews found overdue in it hears of all
        of them in one digest, none by its own reminder (a batch that comes due together is announced once)."""
        batch: dict[str, int] = {}
        for row in rows:
            end = row.get("end_at")
            if end is None or self.now - end > RECENT:
                continue
            if self.work.first_reminder(datetime.fromtimestamp(end, UTC), self.delay).timestamp() < self.now:
                batch[row["interviewer"]] = batch.get(row["interviewer"], 0) + 1
        self._batch = batch

    def __call__(self, after: Assignment, before: Assignment | None) -> tuple[float | None, list[NewJob]]:
        """When to remind of `after` (None: not individually), and the jobs that do it; when its interview ends,
        the recruiter's progress card of its application is sent or brought up to date. The names of the people
        it brings are learnt ahead, for the cards built while Feishu waits (the panel, /history)."""
        remind_at, planned = self._reminders(after, before)
        new = [p for p in (after.interviewer, after.recruiter) if p and p.startswith("ou_") and p not in self._people]
        if new:
            self._people.update(new)
            planned = [*planned, NewJob(LearnNames(people=new))]
        mark = (after.application_id or "", after.end_at)
        if after.application_id and mark not in self._panels:
            self._panels.add(mark)
            refresh = RefreshPanel(application=after.application_id, planned=True)
            planned = [*planned, NewJob(refresh, delay=max(after.end_at - self.now, 0.0))]
        return remind_at, planned

    def _reminders(self, after: Assignment, before: Assignment | None) -> tuple[float | None, list[NewJob]]:
        if not after.open:
            return None, []
        if before is not None and before.open and before.end_at == after.end_at \
                and (before.remind_at or before.first_reminded_at):
            return before.remind_at, []  # an assignment back after being withdrawn or cancelled is planned anew
        end = datetime.fromtimestamp(after.end_at, UTC)
        first = self.work.first_reminder(end, self.delay).timestamp()
        if first < self.now:  # overdue already: now, unless it is old or one of many
            count = self._overdue[after.interviewer] = self._overdue.get(after.interviewer, 0) + 1
            if self._batch is not None:
                count = max(count, self._batch.get(after.interviewer, 0))
            soon = self.work.earliest(datetime.fromtimestamp(self.now, UTC)).timestamp()
            if self.now - after.end_at > RECENT or count > BURST:
                if after.interviewer in self._digested:
                    return None, []
                self._digested.add(after.interviewer)
                return None, [digest_job(after.interviewer, soon - self.now)]
            first = soon
        return first, [remind_job(after.id, first, first - self.now)]
