"""The form job: build the form for one assessment, prefilled, and send it to the person it is for.

When Feishu refuses the form for good, the person hears why in the chat where they asked (in a group they
were told it was sent privately), and how to write the assessment as a command instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.feishu.client import FeishuError
from bot.jobs.delivery import Private, Purpose, Reply, Target, deliver, target
from bot.jobs.retry import CARD, GONE, refusal
from bot.store import Job
from bot.views import form_for
from cards.notice import text_card

if TYPE_CHECKING:
    from bot.jobs.retry import Failure
    from bot.services import Context

log = logging.getLogger("assessbot.jobs.form")

KIND = "form"


class SendForm:
    """Looks the person's name up for the form's default, which is why it runs after the acknowledgement."""

    limit = None

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def run(self, job: Job) -> None:
        card = form_for(self.ctx, job.payload["id"], job.payload["for"], job.payload["nonce"],
                        draft_job=job.payload.get("job"), lookup_name=True)
        to = target(job.payload["target"])
        try:
            deliver(self.ctx, to, card, Purpose.FORM)
        except FeishuError as err:
            if refusal(err) is None:
                raise
            self._refused(job, to, card, err)

    def _refused(self, job: Job, to: Target, card: dict, err: FeishuError) -> None:
        why = refusal(err)
        log.warning("form refused", extra={"job_id": job.id, "code": err.code, "log_id": err.log_id, "refusal": why})
        if why == GONE and not isinstance(to, Private):  # the message asked in is gone: the form goes privately
            try:
                deliver(self.ctx, Private(job.payload["for"], to.source), card, Purpose.FORM)
                return
            except FeishuError as again:
                if refusal(again) is None:
                    raise
        asked_in = to.source if to.source.startswith("om_") else None
        if asked_in is None:
            return  # not asked in a chat message: nowhere else to say it
        try:
            deliver(self.ctx, Reply(asked_in, asked_in), refused_form_card(job.payload["id"], why, err), Purpose.SHORT)
        except FeishuError as again:
            if refusal(again) is None:
                raise
            log.warning("form refusal not told", extra={"job_id": job.id, "code": again.code,
                                                         "log_id": again.log_id})

    def retrying(self, job: Job, error: Failure) -> None:
        """Nothing to record."""

    def dead(self, job: Job, error: Failure | None) -> None:
        """Nothing to tell: Feishu could not be reached for long; the person can ask again."""


def refused_form_card(assessment_id: str, why: str | None, err: FeishuError) -> dict:
    """Why the form did not arrive, and how to write the assessment without it."""
    code = f"{err.code}" + (f", log_id {err.log_id}" if err.log_id else "")
    command = f"/assess {assessment_id} pass 维度=分数 comment=…"
    if why == CARD:
        zh = f"飞书无法显示面评 {assessment_id} 的表单（错误 {code}）。请直接用命令填写：{command}"
        en = f"Feishu could not show the form of assessment {assessment_id} (error {code}). Write it as a command: " \
             f"{command}"
    else:
        zh = (f"无法把面评 {assessment_id} 的表单私聊发给你（飞书错误 {code}）：你可能不在机器人的可用范围内，"
              f"或已停用机器人。请联系管理员，或直接用命令填写：{command}")
        en = (f"The form of assessment {assessment_id} could not be sent to you privately (Feishu error {code}): you "
              f"may be outside the app's availability or have stopped the bot. Ask an admin, or write it as a "
              f"command: {command}")
    return text_card(zh, en, "orange")
