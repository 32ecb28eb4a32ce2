"""Where cards go, decided here and only here: a reply in the command's thread, a private message, or the
card a person clicked (in the callback's answer while it is still open, else by delayed update, else by
updating the message). Repeated deliveries of one purpose post once (Feishu's `uuid`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.contract import Clicked, Private, Purpose, Reply, Target
from bot.feishu.errors import FeishuError
from bot.jobs.retry import CARD, RECIPIENT, refusal, transient

if TYPE_CHECKING:
    from bot.services import Context

log = logging.getLogger("assessbot.delivery")

CARD_TOKEN_LIFETIME = 29 * 60  # Feishu's callback token lives 30 minutes; leave a margin


def deliver(ctx: Context, to: Target, card: dict, purpose: Purpose) -> str | None:
    """Put a card where the target says; the id of the message it made (None: it updated a clicked card)."""
    uuid = f"{to.source}:{purpose.value}"[-50:]
    if isinstance(to, Reply):
        return ctx.feishu.reply_card(to.message_id, card, uuid).data.get("message_id")
    if isinstance(to, Private):
        return ctx.feishu.send_card(to.open_id, card, uuid).data.get("message_id")
    _update_clicked_card(ctx, to, card)
    return None


def deliver_result(ctx: Context, job_id: int, to: Target, card: dict, toast: dict | None, purpose: Purpose) -> None:
    """A job's final card: into its callback's answer while that waits (bot/inline.py), else delivered."""
    if not ctx.inline.offer(job_id, card, toast):
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
