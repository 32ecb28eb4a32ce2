"""The form job: build the form for one assessment, prefilled, and send it to the person it is for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.delivery import Purpose, deliver, target
from bot.store import Job
from bot.views import form_for

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context

KIND = "form"


class SendForm:
    """Looks the person's name up for the form's default, which is why it runs after the acknowledgement."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        card = form_for(self.ctx, job.payload["id"], job.payload["for"], job.payload["nonce"],
                        draft_job=job.payload.get("job"), lookup_name=True)
        deliver(self.ctx, target(job.payload["target"]), card, Purpose.FORM)

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """Nothing to tell: the person sees no form and can ask again."""
