"""What the bot does when a message or a card click arrives: decide, then commit the work before answering.

Everything that calls Feishu runs later from a job (bot/work.py); here the only I/O is the database, so
the acknowledgement is fast whatever the Open API is doing. Typed and clicked commands meet in
`_submit`: one validation, one authorization, one write path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot import auth
from bot.assessment import InvalidFields, Submission, validate
from bot.commands import registry as commands
from bot.feishu.events import CardAction, MessageReceived
from bot.jobs.work import form_for, when
from bot.services import Context, Slot
from bot.store import Denied, NewJob
from cards import errors as error_cards
from cards.confirmation import saving_card
from cards.elements import toast
from cards.form import form_card, form_values_to_raw
from cards.help import HelpEntry, help_card
from cards.history import HistoryEntry, history_card
from cards.notice import group_notice_card, text_card

log = logging.getLogger("assessbot.handlers")


@dataclass
class Answer:
    """A card callback's answer body, and what to do once it has been sent."""

    body: dict
    after: Callable[[], None] | None = None


@dataclass
class _Message:
    """One incoming command and where its answers go."""

    event: MessageReceived
    keys: list[str] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.event.sender_open_id

    @property
    def in_group(self) -> bool:
        return self.event.chat_type != "p2p"

    def reply(self) -> dict:
        return {"type": "reply", "message_id": self.event.message_id, "source": self.event.message_id}

    def private(self) -> dict:
        """Feedback never goes to a group: forms and confirmations go to the person directly."""
        if not self.in_group:
            return self.reply()
        return {"type": "private", "open_id": self.actor, "source": self.event.message_id}


# -- chat messages -------------------------------------------------------------------------------------------

def on_message(ctx: Context, event: MessageReceived) -> None:
    """Handle an `im.message.receive_v1`: ignore what is not for the bot, commit the rest as jobs."""
    if event.sender_type != "user" or event.message_type != "text" or event.text is None:
        return
    text, addressed = strip_mention(event, ctx.bot_open_id)
    if event.chat_type != "p2p" and not addressed:
        return
    msg = _Message(event, [f"event:{event.event_id}", f"message:{event.message_id}"])
    if ctx.store.seen(msg.keys[1]):
        return  # a re-push of a message already handled
    allowed = auth.may_use(ctx.settings, msg.actor, event.chat_id if msg.in_group else None)
    if not allowed.allowed:
        _deny(ctx, msg, None, "use", allowed)
        return
    mentions = {m.key: m.open_id for m in event.mentions}
    try:
        command = commands.parse(text, mentions, ctx.rubric)
    except commands.CommandProblem as problem:
        _send(ctx, msg, error_cards.problem_card(problem.zh, problem.en, usage_zh=problem.usage,
                                                 usage_en=problem.usage, suggestion=problem.suggestion), "p")
        return
    if command is None or isinstance(command, commands.Help):
        _send(ctx, msg, _help(ctx), "h")
    elif isinstance(command, commands.History):
        _history(ctx, msg, command.assessment_id)
    else:
        _assess(ctx, msg, command)
    if ctx.runner is not None:
        ctx.runner.wake()


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


def _help(ctx: Context) -> dict:
    entries = [HelpEntry(e.name, tuple(e.aliases), e.usage, e.summary_zh, e.summary_en, tuple(e.examples))
               for e in commands.help_entries()]
    return help_card(entries, rubric=ctx.rubric)


def _send(ctx: Context, msg: _Message, card: dict, purpose: str, *, private: bool = False,
          audits: list[dict] | None = None) -> None:
    target = msg.private() if private else msg.reply()
    payload = {"card": card, "target": target, "purpose": purpose, "event_id": msg.event.event_id}
    ctx.store.accept(msg.keys, [NewJob("send", payload)], audits=audits or ())


def _deny(ctx: Context, msg: _Message, assessment_id: str | None, action: str, decision: auth.Decision) -> None:
    audit = {"actor": msg.actor, "assessment_id": assessment_id, "action": action, "result": "denied",
             "detail": {"reason": decision.reason, "via": "message"}}
    _send(ctx, msg, error_cards.denied_card(decision.zh, decision.en), "d", audits=[audit])


def _history(ctx: Context, msg: _Message, assessment_id: str) -> None:
    known = ctx.store.known(assessment_id)
    decision = auth.may_read(ctx.settings, msg.actor, known.owner)
    if not decision.allowed:
        _deny(ctx, msg, assessment_id, "history", decision)
        return
    entries = [HistoryEntry(at=when(ctx, e.at), actor=e.actor, action=e.action, result=e.result,
                            changes=_change_lines(e.detail), log_id=e.log_id)
               for e in ctx.store.history(assessment_id, limit=500)]
    _send(ctx, msg, history_card(assessment_id, entries, owner=known.owner), "y", private=True)


def _change_lines(detail: dict) -> tuple[str, ...]:
    lines = []
    for name, change in (detail.get("fields") or {}).items():
        if isinstance(change, list):
            lines.append(f"{name}: {_show(change[0])} → {_show(change[1])}")
        else:
            lines.append(f"{name}: {change}")
    if detail.get("reason"):
        lines.append(str(detail["reason"]))
    return tuple(lines)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _assess(ctx: Context, msg: _Message, command: commands.Assess) -> None:
    aid = command.assessment_id
    if command.owner is not None:
        decision = auth.may_transfer(ctx.settings, msg.actor)
        if not decision.allowed:
            _deny(ctx, msg, aid, "transfer", decision)
            return
        ctx.store.set_owner(aid, command.owner)
        audit = {"actor": msg.actor, "assessment_id": aid, "action": "transfer", "result": "ok",
                 "detail": {"to": command.owner}}
        if command.fields.is_empty:
            _send(ctx, msg, text_card("已转交面评 " + aid, "Assessment " + aid + " handed over"), "o",
                  audits=[audit])
            return
        ctx.store.record(**audit)
    known = ctx.store.known(aid)
    decision = auth.may_write(ctx.settings, msg.actor, known.owner)
    if not decision.allowed:
        _deny(ctx, msg, aid, "write", decision)
        return
    if command.fields.is_empty:
        payload = {"id": aid, "for": msg.actor, "nonce": secrets.token_hex(8), "target": msg.private(),
                   "event_id": msg.event.event_id}
        jobs = [NewJob("form", payload)] + _notice(msg)
        ctx.store.accept(msg.keys, jobs)
        return
    try:
        submission = validate(command.fields, ctx.rubric)
    except InvalidFields as exc:
        usage = commands.usage("assess")
        _send(ctx, msg, error_cards.invalid_card(aid, exc.errors, usage_zh=usage, usage_en=usage), "i")
        return
    name = command.fields.username
    _submit(ctx, msg.keys, aid, submission, msg.actor, name, msg.private(), extra=_notice(msg), via="message",
            event_id=msg.event.event_id)


def _notice(msg: _Message) -> list[NewJob]:
    if not msg.in_group:
        return []
    payload = {"card": group_notice_card(), "target": msg.reply(), "purpose": "n", "event_id": msg.event.event_id}
    return [NewJob("send", payload)]


def _submit(ctx: Context, keys: list[str], aid: str, submission: Submission, actor: str, actor_name: str | None,
            target: dict, *, extra: list[NewJob] = (), via: str, event_id: str, delay: float = 0.0) -> int | None:
    """Commit a validated submission as a versioned write; None when it was seen before. Raises Denied."""
    payload = {"submission": submission.model_dump(mode="json"), "actor": actor, "actor_name": actor_name,
               "target": target, "via": via, "event_id": event_id}
    ids = ctx.store.accept(keys, [NewJob("write", payload, aid, versioned=True, delay=delay), *extra],
                           actor=actor, claim_owner=True, may_override=auth.is_admin(ctx.settings, actor))
    return None if ids is None else ids[0]


# -- card clicks ---------------------------------------------------------------------------------------------

def on_card_action(ctx: Context, action: CardAction) -> Answer:
    """Handle a `card.action.trigger`: answered now, within Feishu's 3 s."""
    allowed = auth.may_use(ctx.settings, action.operator_open_id, None)  # forms only live in private chats
    if not allowed.allowed:
        return _refuse(ctx, action, None, "use", allowed)
    kind = action.value.get("a")
    if kind == "submit":
        return _submit_form(ctx, action)
    if kind == "form":
        return _open_form(ctx, action)
    return Answer({"toast": toast("info", "这张卡片已过期，请重新发送命令。",
                                  "This card is out of date; send the command again.")})


def _refuse(ctx: Context, action: CardAction, aid: str | None, what: str, decision: auth.Decision) -> Answer:
    ctx.store.record(action.operator_open_id, aid, what, "denied", {"reason": decision.reason, "via": "card"})
    return Answer({"toast": toast("error", decision.zh, decision.en)})


def _open_form(ctx: Context, action: CardAction) -> Answer:
    aid = action.value.get("id")
    if not isinstance(aid, str) or not aid:
        return Answer({"toast": toast("error", "卡片数据不完整。", "This card is incomplete.")})
    decision = auth.may_write(ctx.settings, action.operator_open_id, ctx.store.known(aid).owner)
    if not decision.allowed:
        return _refuse(ctx, action, aid, "write", decision)
    job = action.value.get("job") if isinstance(action.value.get("job"), int) else None
    card = form_for(ctx, aid, action.operator_open_id, secrets.token_hex(8), draft_job=job)
    return Answer({"card": {"type": "raw", "data": card}})


def _submit_form(ctx: Context, action: CardAction) -> Answer:
    value, operator = action.value, action.operator_open_id
    aid = value.get("id") if isinstance(value.get("id"), str) else None
    bound = auth.form_is_for(ctx.settings, value, operator)
    if not bound.allowed:
        return _refuse(ctx, action, aid, "write", bound)
    assert aid is not None
    raw = form_values_to_raw(action.form_value, ctx.rubric)
    known = ctx.store.known(aid)
    try:
        submission = validate(raw, ctx.rubric, complete=True, kept=frozenset(known.state.dimensions))
    except InvalidFields as exc:
        card = form_card(aid, ctx.rubric, raw, submit_value=value, errors=exc.errors)
        note = toast("error", "有内容需要修改，请查看标红的项。", "Some values need fixing; see the notes in red.")
        return Answer({"toast": note, "card": {"type": "raw", "data": card}})
    decision = auth.may_write(ctx.settings, operator, known.owner)
    if not decision.allowed:
        return _refuse(ctx, action, aid, "write", decision)
    digest = hashlib.sha256(json.dumps(submission.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    keys = [f"event:{action.event_id}", f"form:{value['n']}:{digest[:32]}"]
    target = {"type": "card", "token": action.update_token, "message_id": action.open_message_id,
              "at": ctx.clock(), "source": action.event_id}
    budget = ctx.settings.assessbot_callback_budget
    try:
        job_id = _submit(ctx, keys, aid, submission, operator, submission.username, target, via="card",
                         event_id=action.event_id, delay=budget + 1.0)
    except Denied:
        return _refuse(ctx, action, aid, "write", auth.may_write(ctx.settings, operator, "someone else"))
    if job_id is None:
        return Answer({"toast": toast("info", "已经保存过了，无需重复提交。", "Already saved; nothing sent twice.")})
    return _answer_inline(ctx, job_id, aid, submission, operator, budget)


def _answer_inline(ctx: Context, job_id: int, aid: str, submission: Submission, operator: str,
                   budget: float) -> Answer:
    """Run the write now; answer with its card if it finishes in time, else with a "saving…" card."""
    slot = ctx.slots[job_id] = Slot()
    if ctx.runner is not None:
        future = ctx.inline.submit(ctx.runner.run_once, None, job_id)
        future.add_done_callback(lambda _: slot.ready.set())
    card, note = slot.close(budget)

    def after() -> None:
        slot.responded.set()
        ctx.slots.pop(job_id, None)

    if card is not None:
        return Answer({"toast": note, "card": {"type": "raw", "data": card}}, after)
    state = submission.merged_into(ctx.store.known(aid).state)
    saving = saving_card(aid, state, ctx.rubric, by=submission.username or operator, at=when(ctx, ctx.clock()))
    return Answer({"toast": toast("info", "正在保存，完成后卡片会自动更新。", "Saving; this card updates when done."),
                   "card": {"type": "raw", "data": saving}}, after)

