"""The send job: deliver a card built when the command was acknowledged (help, problems, denials, notices)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.delivery import Purpose, deliver, target
from bot.store import Job

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context

KIND = "send"


class SendCard:
    """The card is in the payload; the job only puts it where the target says."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        deliver(self.ctx, target(job.payload["target"]), job.payload["card"], Purpose(job.payload.get("purpose", "m")))

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """Nothing to tell."""
