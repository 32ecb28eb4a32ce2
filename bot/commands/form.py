"""The form card's actions: open it (Edit, Try again) and submit it — the clicked twin of /assess."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence

from bot import auth
from bot.actions import OpenForm, SubmitForm
from bot.assessment import validate
from bot.commands.assess import write_job
from bot.commands.base import Inline, Outcome, Request
from bot.commands.registry import on_action
from bot.contract import NewJob, SendForm
from bot.display import form_for, interview_for, reads_back, unchanged_for, when
from bot.rubric import Rubric
from bot.values import FieldError, InvalidFields
from cards.confirmation import saving_card
from cards.elements import toast
from cards.form import form_card, form_values_to_raw
from cards.reminder import Interview

READING = toast("info", "正在读取飞书中已填写的内容，表单稍后出现在这张卡片上。",
                "Reading what Feishu holds; the form replaces this card in a moment.")


@on_action(OpenForm)
def open_form(req: Request, action: OpenForm) -> Outcome:
    """Answer the click with the form, prefilled (with the failed values for "Try again")."""
    ctx, aid = req.ctx, action.assessment_key
    known = ctx.store.known(aid)
    decision = req.may_write(aid, known.owner, aid)
    if not decision.allowed:
        return req.deny(aid, "write", decision)
    if reads_back(ctx, aid, known.applied_version) and req.clicked is not None:
        # Feishu holds an assessment the bot never wrote: a job reads it back and answers with the form, prefilled
        budget = ctx.settings.assessbot_callback_budget
        form = SendForm(key=aid, opened_for=req.actor, nonce=secrets.token_hex(8), draft_job=action.draft_job,
                        target=req.clicked, event_id=req.event_id)
        return Outcome(jobs=[NewJob(form, delay=budget + 1.0)], inline=Inline(budget, lambda: None, READING))
    chosen = ctx.forms.choose(aid, known=known)
    card = form_for(ctx, aid, req.actor, secrets.token_hex(8), draft_job=action.draft_job, names=req.names,
                    rubric=chosen.rubric)
    return Outcome(card=card, pins=[chosen.pin] if chosen.pin else [])


def form_as_submitted(req: Request, action: SubmitForm, errors: Sequence[FieldError] = (),
                      interview: Interview | None = None, rubric: Rubric | None = None) -> dict:
    """The same form again, holding everything that was submitted (and the notes on what to fix); without
    `rubric` it reads nothing from the database (the version the form showed, if this process knows it, else the
    local rubric), so it can answer while the database is away."""
    rubric = rubric or req.ctx.forms.cached(action.form) or req.ctx.rubric
    raw = form_values_to_raw(req.form_value, rubric)
    return form_card(action.assessment_key, rubric, raw, submit_value=action.encode(), errors=errors,
                     interview=interview)


@on_action(SubmitForm)
def submit_form(req: Request, action: SubmitForm) -> Outcome:
    """Validate the form like a typed command; a valid one is written now and answered with its card."""
    ctx, aid = req.ctx, action.assessment_key
    bound = auth.form_is_for(ctx.settings, action, req.actor)
    if not bound.allowed:
        return req.deny(aid or None, "write", bound)
    known = ctx.store.known(aid)
    chosen = ctx.forms.choose(aid, known=known)
    rubric, pins = chosen.rubric, [chosen.pin] if chosen.pin else []
    raw = form_values_to_raw(req.form_value, rubric)
    try:
        recorded = {*known.state.dimensions, *(("content",) if known.state.content is not None else ())}
        submission = validate(raw, rubric, complete=True, kept=frozenset(recorded), known=known.state.dimensions)
    except InvalidFields as exc:
        card = form_as_submitted(req, action, exc.errors, interview_for(ctx, aid), rubric)
        note = toast("error", "有内容需要修改，请查看标红的项。", "Some values need fixing; see the notes in red.")
        return Outcome(toast=note, card=card)
    decision = req.may_write(aid, known.owner, aid)
    if not decision.allowed:
        return req.deny(aid, "write", decision)
    if (same := ctx.store.unchanged_state(aid, submission, known)) is not None:
        card = unchanged_for(ctx, aid, same, rubric, req.names)
        note = toast("info", "没有改动，未发送给飞书。", "Nothing changed; nothing was sent to Feishu.")
        return Outcome(toast=note, card=card, pins=pins)
    dumped = submission.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()
    budget = ctx.settings.assessbot_callback_budget

    def saving() -> dict:
        state, interview = submission.merged_into(ctx.store.known(aid).state), interview_for(ctx, aid)
        return saving_card(interview.reference if interview else aid, state, rubric, by=req.names(req.actor),
                           at=when(ctx, ctx.clock()), interview=interview)

    return Outcome(jobs=[write_job(req, aid, submission, delay=budget + 1.0)],
                   keys=[f"event:{req.event_id}", f"form:{action.nonce}:{digest[:32]}"], write=True,
                   may_override=auth.is_admin(ctx.settings, req.actor), inline=Inline(budget, saving), pins=pins)
