"""A card click: decode its typed action, let the action's unit decide, commit, and answer within 3 s.

A submitted form is written inline: the answer carries the confirmation when the write finishes within the
callback budget, else a "saving…" card that the job updates once the answer has been sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot import actions, auth
from bot.commands import registry
from bot.commands.base import Inline, Outcome, Request
from bot.commands.form import form_as_submitted
from bot.feishu.events import CardAction
from bot.flows.commit import Denied, commit
from bot.jobs.delivery import Clicked
from bot.services import Context
from cards.elements import toast

log = logging.getLogger("assessbot.clicks")


@dataclass
class Answer:
    """A card callback's answer body, and what to do once it has been sent."""

    body: dict
    after: Callable[[], None] | None = None


def on_card_action(ctx: Context, event: CardAction) -> Answer:
    """Handle a `card.action.trigger`: answered now, within Feishu's 3 s."""
    clicked = Clicked(event.update_token, event.open_message_id, ctx.clock(), event.event_id)
    req = Request(ctx, event.operator_open_id, event.event_id, clicked=clicked, form_value=event.form_value)
    outcome = _decide(req, event.value)
    try:
        ids = commit(req, [], outcome)
    except Denied:  # someone else claimed the assessment since the unit looked
        outcome = req.deny(event.value.get("id") if isinstance(event.value.get("id"), str) else None, "write",
                           auth.may_write(ctx.settings, req.actor, "someone else"))
        ids = commit(req, [], outcome)
    if outcome.inline is not None:
        if not ids:
            return Answer({"toast": toast("info", "已经保存过了，无需重复提交。",
                                          "Already saved; nothing sent twice.")})
        return _answer_inline(ctx, ids[0], outcome.inline)
    return Answer(outcome.answer)


def not_saved(ctx: Context, event: CardAction) -> dict:
    """The answer when the database cannot store a click now: say so, and keep everything typed in the card.

    Feishu never re-pushes a callback, so the person is asked to click again; a submitted form comes back as
    it was sent, filled in, rather than as the empty form the card may have reverted to.
    """
    body: dict = {"toast": toast("error", "暂时无法保存你的提交，请稍后再试一次。",
                                 "Could not save your answer; please try again in a moment.")}
    try:
        action = actions.decode(event.value)
    except actions.Stale:
        return body
    req = Request(ctx, event.operator_open_id, event.event_id, form_value=event.form_value)
    if isinstance(action, actions.SubmitForm) and auth.form_is_for(ctx.settings, action, req.actor).allowed:
        body["card"] = {"type": "raw", "data": form_as_submitted(req, action)}
    return body


def _decide(req: Request, value: dict) -> Outcome:
    allowed = auth.may_use(req.ctx.settings, req.actor, None)  # forms only live in private chats
    if not allowed.allowed:
        return req.deny(None, "use", allowed)
    try:
        action = actions.decode(value)
    except actions.Incomplete:
        return Outcome(answer={"toast": toast("error", "卡片数据不完整。", "This card is incomplete.")})
    except actions.Stale:
        return Outcome(answer={"toast": toast("info", "这张卡片已过期，请重新发送命令。",
                                              "This card is out of date; send the command again.")})
    return registry.handler_for(action)(req, action)


def _answer_inline(ctx: Context, job_id: int, inline: Inline) -> Answer:
    """Run the write now; answer with its card if it finishes in time, else with a "saving…" card."""
    waiting = ctx.answers.open(job_id)
    if ctx.runner is not None:
        future = ctx.inline.submit(ctx.runner.run_once, None, job_id)
        future.add_done_callback(lambda _: waiting.ready.set())
    card, note = waiting.close(inline.budget)

    def after() -> None:
        waiting.responded.set()
        ctx.answers.close(job_id)

    if card is not None:
        return Answer({"toast": note, "card": {"type": "raw", "data": card}}, after)
    saving = inline.saving()
    return Answer({"toast": toast("info", "正在保存，完成后卡片会自动更新。", "Saving; this card updates when done."),
                   "card": {"type": "raw", "data": saving}}, after)
