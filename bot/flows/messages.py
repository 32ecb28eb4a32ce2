"""A chat message: ignore what is not for the bot, read the command, and commit what its unit decided.

Everything that calls Feishu runs later from a job; here the only I/O is the database (people's names
included: bot/display.py), so the acknowledgement is fast whatever the Open API is doing. Feishu writes each
@mention as a placeholder `@_user_N` (https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content):
the bot's own is removed wherever it stands, the others resolve to people, and none is ever sent on.
"""

from __future__ import annotations

import logging

from bot import auth
from bot.commands import registry, upload
from bot.commands.base import CommandProblem, Outcome, Request
from bot.commands.help import Help
from bot.contract import Purpose
from bot.feishu import mentions as mentioned
from bot.feishu.events import Mention, MenuClicked, MessageReceived
from bot.flows.commit import Denied, commit
from bot.services import Context
from cards import errors as error_cards
from cards.notice import text_only_card

log = logging.getLogger("assessbot.messages")


def on_message(ctx: Context, event: MessageReceived) -> None:
    """Handle an `im.message.receive_v1`: commit the command's outcome with the message's dedup keys."""
    if event.from_bot or event.sender_type not in ("user", ""):
        return  # other bots (and the bot itself) never command it
    addressed = mentioned.strip_bot(event.text or "", event.mentions, ctx.bot_open_id)
    if event.in_group and not addressed.to_bot:
        return  # p2p, group and topic_group alike: in a group only what mentions the bot is for it
    keys = [f"event:{event.event_id}", f"message:{event.message_id}"]
    if ctx.store.seen(keys[1]):
        return  # a re-push of a message already handled
    req = Request(ctx, event.sender_open_id, event.event_id, event.message_id, event.in_group,
                  event.chat_id if event.in_group else None, mentioned.Mentioned(addressed.mentions),
                  parent_id=event.parent_id)
    if event.message_type == "file":  # a schedule to import, or a file the bot says it does not read
        allowed = auth.may_use(ctx.settings, req.actor, req.chat_id)
        outcome = upload.file_received(req, event.file_key, event.file_name) if allowed.allowed else \
            req.deny(None, "use", allowed)
    elif event.text is None:  # an image, a sticker…: say what the bot reads
        outcome = Outcome(jobs=[req.send(text_only_card(), Purpose.HELP)])
    else:
        outcome = _decide(req, addressed.text)
    if "@_user_" in (event.text or ""):  # a unit can only echo a placeholder that was typed
        _unleak(outcome, event.mentions)
    try:
        commit(req, keys, outcome)
    except Denied:  # someone else claimed the assessment since the unit looked
        commit(req, keys, req.deny(None, "write", auth.may_write(ctx.settings, req.actor, "someone else")))
    if ctx.runner is not None:
        ctx.runner.wake()


def on_menu(ctx: Context, event: MenuClicked) -> None:
    """Handle an `application.bot.menu_v6`: an item whose event id is a command word (`todo`, `help`) runs that
    command for the person who clicked, answered in their chat with the bot; any other item shows the help."""
    keys = [f"event:{event.event_id}"]
    if ctx.store.seen(keys[0]):
        return  # a re-push of a click already handled
    req = Request(ctx, event.operator_open_id, event.event_id)
    allowed = auth.may_use(ctx.settings, req.actor, None)
    if not allowed.allowed:
        outcome = req.deny(None, "use", allowed)
    else:
        try:
            command = registry.parse("/" + event.event_key.strip().removeprefix("/"), {}, ctx.rubric)
        except CommandProblem:
            command = None
        outcome = (command or Help()).handle(req)
    commit(req, keys, outcome)
    log.info("menu clicked", extra={"event_id": event.event_id, "event_key": event.event_key[:30]})
    if ctx.runner is not None:
        ctx.runner.wake()


def _decide(req: Request, text: str) -> Outcome:
    allowed = auth.may_use(req.ctx.settings, req.actor, req.chat_id)
    if not allowed.allowed:
        return req.deny(None, "use", allowed)
    try:
        command = registry.parse(text, req.mentions, req.ctx.rubric)
        if command is None and req.in_group and mentioned.PLACEHOLDER.match(text):
            # `@colleague @bot /assess …`: whoever else is mentioned before the command, the command is the bot's
            command = registry.parse(_after_mentions(text), req.mentions, req.ctx.rubric)
    except CommandProblem as problem:
        card = error_cards.problem_card(problem.zh, problem.en, usage_zh=problem.usage, usage_en=problem.usage,
                                        suggestion=problem.suggestion)
        return Outcome(jobs=[req.send(card, Purpose.PROBLEM)])
    return (command or Help()).handle(req)


def _after_mentions(text: str) -> str:
    """The text after the mentions it starts with."""
    rest = text.lstrip()
    while (found := mentioned.PLACEHOLDER.match(rest)) is not None:
        rest = rest[found.end():].lstrip()
    return rest


def _unleak(outcome: Outcome, people: tuple[Mention, ...]) -> None:
    """The last guard: whatever a unit echoes (a value in an error, a comment), its placeholders become names."""
    outcome.jobs[:] = [job.with_payload(type(job.payload).model_validate(
        mentioned.unleak(job.payload.model_dump(mode="json", by_alias=True), people))) for job in outcome.jobs]
    outcome.audits[:] = [mentioned.unleak(a, people) for a in outcome.audits]  # type: ignore[misc]
