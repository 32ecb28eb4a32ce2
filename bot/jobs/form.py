"""The form job: build the form for one assessment, prefilled, and send it to the person it is for.

When Feishu refuses the form for good, the person hears why in the chat where they asked (in a group they
were told it was sent privately), and how to write the assessment as a command instead.
"""

from __future__ import annotations

import logging

from bot import display
from bot.contract import Job, Private, Purpose, Reply, SendForm
from bot.feishu.errors import FeishuError
from bot.hire_body import read_back
from bot.jobs.base import Executor
from bot.jobs.delivery import deliver, deliver_result
from bot.jobs.retry import CARD, GONE, refusal
from bot.rubric import Rubric
from cards.notice import text_card

log = logging.getLogger("assessbot.jobs.form")


class SendFormCard(Executor):
    """Reads back what Feishu holds when the bot has no record of it and looks the person's name up for the form's
    default, which is why it runs after the acknowledgement."""

    payload = SendForm

    def run(self, job: Job) -> None:
        form = job.payload
        assert isinstance(form, SendForm)
        chosen = self.ctx.forms.choose(form.key)
        notice = self._read_back(form.key, chosen.rubric)
        card = display.form_for(self.ctx, form.key, form.opened_for, form.nonce, draft_job=form.draft_job,
                                names=display.Names(self.ctx, live=True), rubric=chosen.rubric, notice=notice)
        if chosen.pin is not None:
            self.ctx.store.pin_form(*chosen.pin)  # the interviewer now sees this version: it stays theirs
        try:
            deliver_result(self.ctx, job.id, form.target, card, None, Purpose.FORM)
        except FeishuError as err:
            if refusal(err) is None:
                raise
            self._refused(job, form, card, err)

    def _read_back(self, key: str, rubric: Rubric) -> tuple[str, str] | None:
        """Prefill from Feishu an assessment the bot never wrote (external_interviews/batch_query), so re-picking the
        required conclusion cannot silently change what is there; what could not be known, as the form's notice."""
        ctx = self.ctx
        known = ctx.store.known(key)
        assignment = ctx.store.assignment(key)
        if known.applied_version > 0 or (assignment is not None and assignment.feishu_assessment_id is None):
            return None  # the bot's own record, or nothing in Feishu yet: it creates the assessment
        if assignment is None or not assignment.interview_id:
            return None  # nowhere to read it from: the form says the values are unknown
        try:
            held = [a for a in ctx.feishu.interview_assessments(assignment.interview_id)
                    if a.get("id") == assignment.feishu_assessment_id]
        except FeishuError as err:
            log.warning("assessment not read back", extra={"assessment_key": key, "code": err.code,
                                                           "log_id": err.log_id})
            return display.HELD_UNREAD
        if not held:
            return None  # Feishu holds nothing under that id (yet): nothing to lose
        state, misfits = read_back(held[0], rubric)
        ctx.store.learn_state(key, state)
        return display.held_misfits(misfits) if misfits else None

    def _refused(self, job: Job, form: SendForm, card: dict, err: FeishuError) -> None:
        why, to = refusal(err), form.target
        log.warning("form refused", extra={"job_id": job.id, "code": err.code, "log_id": err.log_id, "refusal": why})
        if why == GONE and not isinstance(to, Private):  # the message asked in is gone: the form goes privately
            try:
                deliver(self.ctx, Private(form.opened_for, to.source), card, Purpose.FORM)
                return
            except FeishuError as again:
                if refusal(again) is None:
                    raise
        asked_in = to.source if to.source.startswith("om_") else None
        if asked_in is None:
            return  # not asked in a chat message: nowhere else to say it
        try:
            deliver(self.ctx, Reply(asked_in, asked_in), refused_form_card(form.key, why, err), Purpose.SHORT)
        except FeishuError as again:
            if refusal(again) is None:
                raise
            log.warning("form refusal not told", extra={"job_id": job.id, "code": again.code,
                                                         "log_id": again.log_id})


def refused_form_card(shown_id: str, why: str | None, err: FeishuError) -> dict:
    """Why the form did not arrive, and how to write the assessment without it."""
    code = f"{err.code}" + (f", log_id {err.log_id}" if err.log_id else "")
    command = f"/assess {shown_id} pass 维度=分数 comment=…"
    if why == CARD:
        zh = f"飞书无法显示面评 {shown_id} 的表单（错误 {code}）。请直接用命令填写：{command}"
        en = f"Feishu could not show the form of assessment {shown_id} (error {code}). Write it as a command: " \
             f"{command}"
    else:
        zh = (f"无法把面评 {shown_id} 的表单私聊发给你（飞书错误 {code}）：你可能不在机器人的可用范围内，"
              f"或已停用机器人。请联系管理员，或直接用命令填写：{command}")
        en = (f"The form of assessment {shown_id} could not be sent to you privately (Feishu error {code}): you "
              f"may be outside the app's availability or have stopped the bot. Ask an admin, or write it as a "
              f"command: {command}")
    return text_card(zh, en, "orange")
