"""After the 200: the job runner, its retry table, the job kinds and delivery.

A job kind is a module with `KIND` and an executor class; `executors` lists them for the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs import form, panel, remind, send, write

if TYPE_CHECKING:
    from bot.jobs.runner import Executor
    from bot.services import Context


def executors(ctx: Context) -> dict[str, Executor]:
    """One executor per job kind."""
    return {write.KIND: write.WriteAssessment(ctx), form.KIND: form.SendForm(ctx), send.KIND: send.SendCard(ctx),
            remind.REMIND: remind.Remind(ctx), remind.DIGEST: remind.Digest(ctx), panel.REFRESH: panel.Refresh(ctx),
            panel.NUDGE: panel.NudgeMissing(ctx), panel.SHARE: panel.ShareSummary(ctx)}
