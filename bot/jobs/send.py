"""The send job: deliver a card built when the command was acknowledged (help, problems, denials, notices)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.feishu.client import FeishuError
from bot.jobs.delivery import Purpose, deliver, target
from bot.jobs.retry import CARD, refusal
from bot.store import Job
from cards.notice import text_card

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.send")

KIND = "send"


class SendCard:
    """The card is in the payload; the job only puts it where the target says."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        to = target(job.payload["target"])
        try:
            deliver(self.ctx, to, job.payload["card"], Purpose(job.payload.get("purpose", "m")))
        except FeishuError as err:
            why = refusal(err)
            if why is None:
                raise
            log.warning("card refused", extra={"job_id": job.id, "code": err.code, "log_id": err.log_id,
                                               "refusal": why})
            if why == CARD:  # the card, not the place: a short note where it was going
                deliver(self.ctx, to, text_card(f"这条回复无法显示（飞书错误 {err.code}）。发送 /help 查看命令。",
                                                f"This answer could not be shown (Feishu error {err.code}). "
                                                "Send /help for the commands."), Purpose.SHORT)
            # the place is gone or cannot take a message from the bot: there is no one left to tell

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """Nothing to tell."""
