"""The form card's actions: open it (Edit, Try again) and submit it — the clicked twin of /assess."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence

from bot import auth
from bot.actions import OpenForm, SubmitForm
from bot.assessment import FieldError, InvalidFields, validate
from bot.commands.assess import write_job
from bot.commands.base import Inline, Outcome, Request
from bot.commands.registry import on_action
from bot.views import changes_nothing_known, form_for, interview_for, may_write, submitter, when
from cards.confirmation import saving_card, unchanged_card
from cards.elements import toast
from cards.form import form_card, form_values_to_raw
from cards.reminder import Interview


@on_action(OpenForm)
def open_form(req: Request, action: OpenForm) -> Outcome:
    """Answer the click with the form, prefilled (with the failed values for "Try again")."""
    ctx, aid = req.ctx, action.assessment_id
    decision = may_write(ctx, req.actor, aid, ctx.store.known(aid).owner)
    if not decision.allowed:
        return req.deny(aid, "write", decision)
    card = form_for(ctx, aid, req.actor, secrets.token_hex(8), draft_job=action.draft_job)
    return Outcome(answer={"card": {"type": "raw", "data": card}})


def form_as_submitted(req: Request, action: SubmitForm, errors: Sequence[FieldError] = (),
                      interview: Interview | None = None) -> dict:
    """The same form again, holding everything that was submitted (and the notes on what to fix); it reads
    nothing from the database, so it can answer while the database is away."""
    raw = form_values_to_raw(req.form_value, req.ctx.rubric)
    return form_card(action.assessment_id, req.ctx.rubric, raw, submit_value=action.encode(), errors=errors,
                     interview=interview)


@on_action(SubmitForm)
def submit_form(req: Request, action: SubmitForm) -> Outcome:
    """Validate the form like a typed command; a valid one is written now and answered with its card."""
    ctx, aid = req.ctx, action.assessment_id
    bound = auth.form_is_for(ctx.settings, action, req.actor)
    if not bound.allowed:
        return req.deny(aid or None, "write", bound)
    raw = form_values_to_raw(req.form_value, ctx.rubric)
    known = ctx.store.known(aid)
    try:
        recorded = {*known.state.dimensions, *(("content",) if known.state.content is not None else ())}
        submission = validate(raw, ctx.rubric, complete=True, kept=frozenset(recorded))
    except InvalidFields as exc:
        card = form_as_submitted(req, action, exc.errors, interview_for(ctx, aid))
        note = toast("error", "有内容需要修改，请查看标红的项。", "Some values need fixing; see the notes in red.")
        return Outcome(answer={"toast": note, "card": {"type": "raw", "data": card}})
    decision = may_write(ctx, req.actor, aid, known.owner)
    if not decision.allowed:
        return req.deny(aid, "write", decision)
    if (same := changes_nothing_known(ctx, aid, submission, known)) is not None:
        card = unchanged_card(aid, same, ctx.rubric, by=submitter(ctx, req.actor), at=when(ctx, ctx.clock()),
                              edit_value=OpenForm(aid).encode())
        note = toast("info", "没有改动，未发送给飞书。", "Nothing changed; nothing was sent to Feishu.")
        return Outcome(answer={"toast": note, "card": {"type": "raw", "data": card}})
    dumped = submission.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()
    budget = ctx.settings.assessbot_callback_budget

    def saving() -> dict:
        state = submission.merged_into(ctx.store.known(aid).state)
        return saving_card(aid, state, ctx.rubric, by=submitter(ctx, req.actor), at=when(ctx, ctx.clock()),
                           interview=interview_for(ctx, aid))

    return Outcome(jobs=[write_job(req, aid, dumped, submission.username, delay=budget + 1.0)],
                   keys=[f"event:{req.event_id}", f"form:{action.nonce}:{digest[:32]}"], write=True,
                   may_override=auth.is_admin(ctx.settings, req.actor), inline=Inline(budget, saving))
