"""From a raw push to an answer: authenticate, parse into a typed event, route; the kinds of error are handled
here, once.

Persist or refuse: nothing is answered 200 unless what it asks for is stored. A bug is logged and answered 200
(a re-push would hit the same bug); a database that cannot store the event now is answered 503, so Feishu
pushes it again later, and a card click (never re-pushed) is told to try again, with what was typed kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.feishu import events, security
from bot.flows.clicks import not_saved, on_card_action
from bot.flows.messages import on_message
from bot.services import Context
from bot.store import errors
from cards.elements import toast

log = logging.getLogger("assessbot.events")

UNAUTHORIZED = {"error": "unauthorized"}  # constant: a failed check reveals nothing about why
UNAVAILABLE = {"error": "unavailable"}  # constant too: nothing about the database leaves the process


@dataclass
class Result:
    status: int
    body: dict
    after: Callable[[], None] | None = None


def receive(ctx: Context, body: bytes, headers: Mapping[str, str]) -> Result:
    """Answer one push from Feishu: 200 for accepted or ignored, 400 malformed, 401 not authentic."""
    settings = ctx.settings
    secrets = security.Secrets(settings.feishu_encrypt_key, settings.feishu_verification_token,
                               settings.feishu_encrypt_key_previous, settings.feishu_verification_token_previous)
    try:
        payload = security.authenticate(body, headers, secrets, now=ctx.clock(),
                                        window=settings.assessbot_replay_window_seconds)
    except security.Rejected as exc:
        log.warning("request rejected", extra={"status": exc.status, "reason": exc.reason})
        return Result(exc.status, UNAUTHORIZED if exc.status == 401 else {"error": "bad request"})
    return handle_payload(ctx, payload, payload.key)


def handle_payload(ctx: Context, payload: dict, key: str | None = None) -> Result:
    """Answer an authenticated payload, however it arrived (webhook or long connection).

    `key` says which secrets authenticated a webhook push (current or previous, during a rotation).
    """
    try:
        event = events.parse(payload)
    except events.Malformed as exc:
        log.warning("malformed event", extra={"reason": str(exc)[:200]})
        return Result(400, {"error": "bad request"})
    if isinstance(event, events.UrlVerification):
        return Result(200, {"challenge": event.challenge})
    if isinstance(event, events.MessageReceived):
        return _guard(event.event_id, lambda: _message(ctx, event, key), Result(200, {}),
                      lambda: Result(503, UNAVAILABLE))
    if isinstance(event, events.CardAction):
        sorry = toast("error", "出了点问题，请稍后重试。", "Something went wrong on our side; please try again.")
        apology = Result(200, {"toast": sorry})
        return _guard(event.event_id, lambda: _card(ctx, event, key), apology,
                      lambda: Result(200, not_saved(ctx, event)))
    log.info("event ignored", extra={"event_type": event.event_type, "event_id": event.event_id})
    return Result(200, {})


def _message(ctx: Context, event: events.MessageReceived, key: str | None) -> Result:
    on_message(ctx, event)
    log.info("message handled", extra={"event_id": event.event_id, **({"key": key} if key else {})})
    return Result(200, {})


def _card(ctx: Context, event: events.CardAction, key: str | None) -> Result:
    answer = on_card_action(ctx, event)
    log.info("card action handled", extra={"event_id": event.event_id, **({"key": key} if key else {})})
    return Result(200, answer.body, answer.after)


def _guard(event_id: str, run: Callable[[], Result], fallback: Result, refuse: Callable[[], Result]) -> Result:
    # A bug is logged and answered politely, still with 200: a re-push would hit the same bug. A database that
    # cannot store the event now is refused: the event is not acknowledged until it is stored.
    try:
        return run()
    except Exception as exc:
        if errors.unavailable(exc):
            log.warning("not acknowledged: the database is unavailable",
                        extra={"event_id": event_id, "reason": errors.reason(exc)})
            return refuse()
        log.exception("handler failed", extra={"event_id": event_id})
        return fallback
