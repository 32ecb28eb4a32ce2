"""A chat message: ignore what is not for the bot, read the command, and commit what its unit decided.

Everything that calls Feishu runs later from a job; here the only I/O is the database, so the
acknowledgement is fast whatever the Open API is doing.
"""

from __future__ import annotations

import logging

from bot import auth
from bot.commands import registry
from bot.commands.base import CommandProblem, Outcome, Request
from bot.commands.help import Help
from bot.feishu.events import MessageReceived
from bot.flows.commit import Denied, commit
from bot.jobs.delivery import Purpose
from bot.services import Context
from cards import errors as error_cards

log = logging.getLogger("assessbot.messages")


def on_message(ctx: Context, event: MessageReceived) -> None:
    """Handle an `im.message.receive_v1`: commit the command's outcome with the message's dedup keys."""
    if event.sender_type != "user" or event.message_type != "text" or event.text is None:
        return
    text, addressed = strip_mention(event, ctx.bot_open_id)
    in_group = event.chat_type != "p2p"
    if in_group and not addressed:
        return
    keys = [f"event:{event.event_id}", f"message:{event.message_id}"]
    if ctx.store.seen(keys[1]):
        return  # a re-push of a message already handled
    mentions = {m.key: m.open_id for m in event.mentions}
    req = Request(ctx, event.sender_open_id, event.event_id, event.message_id, in_group,
                  event.chat_id if in_group else None, mentions)
    outcome = _decide(req, text)
    try:
        commit(req, keys, outcome)
    except Denied:  # someone else claimed the assessment since the unit looked
        commit(req, keys, req.deny(None, "write", auth.may_write(ctx.settings, req.actor, "someone else")))
    if ctx.runner is not None:
        ctx.runner.wake()


def _decide(req: Request, text: str) -> Outcome:
    allowed = auth.may_use(req.ctx.settings, req.actor, req.chat_id)
    if not allowed.allowed:
        return req.deny(None, "use", allowed)
    try:
        command = registry.parse(text, req.mentions, req.ctx.rubric)
    except CommandProblem as problem:
        card = error_cards.problem_card(problem.zh, problem.en, usage_zh=problem.usage, usage_en=problem.usage,
                                        suggestion=problem.suggestion)
        return Outcome(jobs=[req.send(card, Purpose.PROBLEM)])
    return (command or Help()).handle(req)


def strip_mention(event: MessageReceived, bot_open_id: str | None) -> tuple[str, bool]:
    """The text without the bot's @-mention, and whether the bot was mentioned at all."""
    text = event.text or ""
    addressed = False
    for mention in event.mentions:
        is_bot = mention.open_id == bot_open_id if bot_open_id else mention.key == "@_user_1"
        if is_bot and mention.key in text:
            text = text.replace(mention.key, " ")
            addressed = True
    return text.strip(), addressed
