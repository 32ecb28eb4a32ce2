"""Where cards go, decided here and only here: a reply in the command's thread, a private message, or the
card a person clicked (in the callback's answer while it is still open, else by delayed update, else by
updating the message). Repeated deliveries of one purpose post once (Feishu's `uuid`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.feishu.client import FeishuError
from bot.jobs.retry import CARD, RECIPIENT, refusal, transient

if TYPE_CHECKING:
    from bot.services import Context

log = logging.getLogger("assessbot.delivery")

CARD_TOKEN_LIFETIME = 29 * 60  # Feishu's callback token lives 30 minutes; leave a margin


class Purpose(StrEnum):
    """Why a card is sent; with the source message it makes the delivery's idempotency key."""

    HELP = "h"
    PROBLEM = "p"
    DENIED = "d"
    INVALID = "i"
    HANDED_OVER = "o"
    HISTORY = "y"
    GROUP_NOTICE = "n"
    FORM = "form"
    CONFIRMED = "c"
    FAILED = "f"
    MESSAGE = "m"
    REMINDER = "r"
    DIGEST = "g"
    ESCALATED = "e"
    NOT_MINE = "x"
    INBOX = "t"
    SHORT = "s"  # the short card sent instead of one Feishu refused
    TEXT = "tx"  # the plain text sent when no card is accepted
    WHOAMI = "w"
    PANEL = "pl"


@dataclass(frozen=True)
class Reply:
    """A reply in the thread of the message that asked."""

    message_id: str
    source: str

    def encode(self) -> dict:
        return {"type": "reply", "message_id": self.message_id, "source": self.source}


@dataclass(frozen=True)
class Private:
    """A message to one person in their chat with the bot."""

    open_id: str
    source: str

    def encode(self) -> dict:
        return {"type": "private", "open_id": self.open_id, "source": self.source}


@dataclass(frozen=True)
class Clicked:
    """The card a person clicked: its callback token (30 minutes, two uses) and its message."""

    token: str
    message_id: str
    at: float
    source: str

    def encode(self) -> dict:
        return {"type": "card", "token": self.token, "message_id": self.message_id, "at": self.at,
                "source": self.source}


Target = Reply | Private | Clicked


def target(value: dict) -> Target:
    """The target a job's payload names."""
    kind = value["type"]
    if kind == "reply":
        return Reply(value["message_id"], value.get("source", ""))
    if kind == "private":
        return Private(value["open_id"], value.get("source", ""))
    if kind == "card":
        return Clicked(value.get("token") or "", value.get("message_id") or "", float(value.get("at", 0)),
                       value.get("source", ""))
    raise ValueError(f"unknown delivery target {kind!r}")


def deliver(ctx: Context, to: Target, card: dict, purpose: Purpose) -> None:
    """Put a card where the target says."""
    uuid = f"{to.source}:{purpose.value}"[-50:]
    if isinstance(to, Reply):
        ctx.feishu.reply_card(to.message_id, card, uuid)
    elif isinstance(to, Private):
        ctx.feishu.send_card(to.open_id, card, uuid)
    else:
        _update_clicked_card(ctx, to, card)


def deliver_result(ctx: Context, job_id: int, to: Target, card: dict, toast: dict, purpose: Purpose) -> None:
    """A job's final card: into its callback's answer while that is open, else delivered after the answer."""
    answer = ctx.answers.get(job_id)
    if answer is not None:
        if answer.offer(card, toast):
            return
        answer.responded.wait(5.0)  # a delayed update must come after the callback's answer
    deliver(ctx, to, card, purpose)


def _update_clicked_card(ctx: Context, to: Clicked, card: dict) -> None:
    fresh = ctx.clock() - to.at < CARD_TOKEN_LIFETIME
    if fresh and to.token:
        try:
            ctx.feishu.delayed_update(to.token, card)
            return
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid or not to.message_id:
                raise
            log.warning("delayed update refused; updating the message instead", extra={"code": err.code})
    ctx.feishu.update_card(to.message_id, card)


def deliver_instead(ctx: Context, refused: Target, err: FeishuError, person: str, card: dict, text: str) -> bool:
    """After Feishu refused a delivery for good: `card` (short) where it went, unless that place cannot take
    anything, then privately to `person`, then `text` privately. False when nothing could be delivered.

    Each refusal is logged with its code and log id; an answer that is not a refusal (Feishu down, too fast)
    is raised, so the job is retried.
    """
    why = refusal(err)
    log.warning("delivery refused", extra={"code": err.code, "log_id": err.log_id, "refusal": why})
    private = Private(person, refused.source)
    tries: list[tuple[Target, dict | None]] = []  # (where, card); no card: the text
    if why == CARD:
        tries.append((refused, card))
    if not isinstance(refused, Private):
        tries.append((private, card))
    if not (why == RECIPIENT and isinstance(refused, Private)):  # a person who cannot get a card gets no text
        tries.append((private, None))
    for to, short in tries:
        try:
            if short is None:
                ctx.feishu.send_text(person, text, f"{private.source}:{Purpose.TEXT.value}"[-50:])
            else:
                deliver(ctx, to, short, Purpose.SHORT)
            return True
        except FeishuError as again:
            if refusal(again) is None:
                raise
            log.warning("delivery refused", extra={"code": again.code, "log_id": again.log_id,
                                                   "refusal": refusal(again)})
    return False
