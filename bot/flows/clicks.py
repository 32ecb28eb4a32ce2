"""A card click: decode its typed action, let the action's unit decide, commit, and answer within 3 s.

A submitted form is written inline (bot/inline.py): the answer carries the confirmation when the write finishes
within the callback budget, else a "saving…" card that the job updates once the answer has been sent.
"""

from __future__ import annotations

import logging

from bot import actions, auth
from bot.answer import Answer
from bot.commands import registry
from bot.commands.base import Outcome, Request
from bot.commands.form import form_as_submitted
from bot.commands.upload import decided
from bot.contract import Clicked
from bot.feishu.events import CardAction, LegacyCardAction
from bot.flows.commit import Denied, Moved, commit
from bot.services import Context
from cards.elements import toast
from cards.limits import callback_answer

log = logging.getLogger("assessbot.clicks")

ALREADY_SAVED = toast("info", "已经保存过了，无需重复提交。", "Already saved; nothing sent twice.")


def on_card_action(ctx: Context, event: CardAction | LegacyCardAction) -> Answer:
    """Handle a `card.action.trigger` (or its 1.0 twin): answered now, within Feishu's 3 s."""
    clicked = Clicked(event.update_token, event.open_message_id, ctx.clock(), event.event_id)
    req = Request(ctx, event.operator_open_id, event.event_id, clicked=clicked, form_value=event.form_value)
    with ctx.store.request():  # one connection for the click's look-ups and its write, not for the wait below
        outcome = _decide(req, event.value)
        try:
            ids = commit(req, [], outcome)
        except Moved as moved:  # the upload was decided since the unit looked (Import pressed twice at once)
            return Answer(200, callback_answer(toast=decided(moved.state)))
        except Denied:  # someone else claimed the assessment since the unit looked
            key = event.value.get("id") if isinstance(event.value.get("id"), str) else None
            outcome = req.deny(key, "write", auth.may_write(ctx.settings, req.actor, "someone else"))
            ids = commit(req, [], outcome)
    if outcome.inline is not None:
        if not ids:
            return Answer(200, callback_answer(toast=ALREADY_SAVED))
        run = (lambda: ctx.runner.run_once(None, ids[0])) if ctx.runner is not None else (lambda: None)
        return ctx.inline.answer(ids[0], outcome.inline.budget, run, outcome.inline.saving,
                                 *([outcome.inline.note] if outcome.inline.note else []))
    return Answer(200, callback_answer(outcome.card, outcome.toast))


def not_saved(ctx: Context, event: CardAction | LegacyCardAction) -> Answer:
    """The answer when the database cannot store a click now: say so, and keep everything typed in the card.

    Feishu never re-pushes a callback, so the person is asked to click again; a submitted form comes back as
    it was sent, filled in, rather than as the empty form the card may have reverted to.
    """
    note = toast("error", "暂时无法保存你的提交，请稍后再试一次。",
                 "Could not save your answer; please try again in a moment.")
    try:
        action = actions.decode(event.value)
    except actions.Stale:
        return Answer(200, callback_answer(toast=note))
    req = Request(ctx, event.operator_open_id, event.event_id, form_value=event.form_value)
    if isinstance(action, actions.SubmitForm) and auth.form_is_for(ctx.settings, action, req.actor).allowed:
        return Answer(200, callback_answer(form_as_submitted(req, action), note))
    return Answer(200, callback_answer(toast=note))


def _decide(req: Request, value: dict) -> Outcome:
    allowed = auth.may_use(req.ctx.settings, req.actor, None)  # forms only live in private chats
    if not allowed.allowed:
        return req.deny(None, "use", allowed)
    try:
        action = actions.decode(value)
    except actions.Incomplete:
        return Outcome(toast=toast("error", "卡片数据不完整。", "This card is incomplete."))
    except actions.Stale:
        return Outcome(toast=toast("info", "这张卡片已过期，请重新发送命令。",
                                   "This card is out of date; send the command again."))
    return registry.handler_for(action)(req, action)
