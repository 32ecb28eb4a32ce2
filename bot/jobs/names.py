"""The names jobs: look people's names (and the open_ids of people named by email) up in Feishu and keep them, so
what is decided at request time can name and recognise them."""

from __future__ import annotations

from bot.contract import Job, LearnNames, LearnPeople
from bot.display import Names
from bot.jobs.base import Executor
from bot.schedule.intake import resolve


class LearnNamesOf(Executor):
    """One contact look-up per person not known yet (the client keeps them for this process too)."""

    payload = LearnNames

    def run(self, job: Job) -> None:
        assert isinstance(job.payload, LearnNames)
        names = Names(self.ctx, live=True)
        for open_id in job.payload.people:
            names.known(open_id)


class LearnPeopleOf(Executor):
    """Resolve emails and mobiles to open_ids, through the people cache (batch_get_id, 50 at a time)."""

    payload = LearnPeople

    def run(self, job: Job) -> None:
        assert isinstance(job.payload, LearnPeople)
        ctx = self.ctx
        resolve(set(job.payload.refs), ctx.store, ctx.feishu.open_ids, ctx.clock())
