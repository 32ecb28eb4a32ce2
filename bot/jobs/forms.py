"""The forms job: read the feedback forms from Feishu Hire into the database (bot/forms/sync.py), then plan the
next read. One sync is planned at a time, whichever process plans it; a failure is recorded and said once, and
the next sync comes as planned (nothing is retried sooner: the bot works on its local rubric meanwhile)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.contract import Job, SyncForms
from bot.forms.catalogue import local_form
from bot.forms.sync import sync
from bot.jobs.base import Executor
from bot.store import Unavailable

if TYPE_CHECKING:
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.forms")


def interval(ctx: Context) -> float | None:
    """Seconds between two syncs (None: never)."""
    minutes = ctx.settings.assessbot_forms_sync_minutes
    return minutes * 60.0 if minutes else None


def sync_now(ctx: Context) -> None:
    """At start: the local rubric's version is kept, and a sync is due now (unless syncs are off)."""
    try:
        ctx.store.remember_local_form(local_form(ctx.rubric))
        if interval(ctx) is not None:
            ctx.store.plan_forms_sync(ctx.clock(), sooner=True)
    except Unavailable:
        pass  # logged by the store; housekeeping plans it once the database answers


def keep_planned(ctx: Context) -> None:
    """A sync stays planned even if a chain of them was broken (a job given up, a database outage at start)."""
    every = interval(ctx)
    if every is not None:
        ctx.store.plan_forms_sync(ctx.clock() + every)


class SyncFormsFromHire(Executor):
    """One sync, then the next one planned."""

    payload = SyncForms

    def run(self, job: Job) -> None:
        ctx = self.ctx
        try:
            sync(ctx.store, ctx.feishu, ctx.rubric)
        finally:
            keep_planned(ctx)
