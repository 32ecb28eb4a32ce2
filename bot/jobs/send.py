"""The send job: deliver a card built when the command was acknowledged (help, problems, denials, notices)."""

from __future__ import annotations

import logging

from bot.contract import Job, Purpose, Send
from bot.feishu.errors import FeishuError
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver
from bot.jobs.retry import CARD, refusal
from cards.notice import text_card

log = logging.getLogger("assessbot.jobs.send")


class SendCard(Executor):
    """The card is in the payload; the job only puts it where the target says."""

    payload = Send

    def run(self, job: Job) -> None:
        sent = job.payload
        assert isinstance(sent, Send)
        try:
            deliver(self.ctx, sent.target, sent.card, sent.purpose)
        except FeishuError as err:
            why = refusal(err)
            if why is None:
                raise
            log.warning("card refused", extra={"job_id": job.id, "code": err.code, "log_id": err.log_id,
                                               "refusal": why})
            if why == CARD:  # the card, not the place: a short note where it was going
                deliver(self.ctx, sent.target,
                        text_card(f"这条回复无法显示（飞书错误 {err.code}）。发送 /help 查看命令。",
                                  f"This answer could not be shown (Feishu error {err.code}). "
                                  "Send /help for the commands."), Purpose.SHORT)
            # the place is gone or cannot take a message from the bot: there is no one left to tell
