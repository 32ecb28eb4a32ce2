"""From a raw push to an answer: authenticate, parse into a typed event, route; the kinds of error are handled
here, once.

Persist or refuse: nothing is answered 200 unless what it asks for is stored. A bug is logged and answered 200
(a re-push would hit the same bug); a database that cannot store the event now is answered 503, so Feishu
pushes it again later, and a card click (never re-pushed) is told to try again, with what was typed kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.answer import Answer
from bot.feishu import events, security
from bot.flows.clicks import not_saved, on_card_action
from bot.flows.messages import on_menu, on_message
from bot.flows.tables import on_table_changed
from bot.services import Context
from bot.store import errors
from cards.elements import toast
from cards.limits import callback_answer

log = logging.getLogger("assessbot.events")

UNAUTHORIZED = {"error": "unauthorized"}  # constant: a failed check reveals nothing about why
UNAVAILABLE = {"error": "unavailable"}  # constant too: nothing about the database leaves the process


SORRY = toast("error", "出了点问题，请稍后重试。", "Something went wrong on our side; please try again.")


def receive(ctx: Context, body: bytes, headers: Mapping[str, str]) -> Answer:
    """Answer one push from Feishu: 200 for accepted or ignored, 400 malformed, 401 not authentic."""
    settings = ctx.settings
    if not settings.webhook_keys:  # long-connection mode without the webhook's secrets: nothing can be verified
        log.warning("request rejected", extra={"status": 404, "reason": "webhook not configured"})
        return Answer(404, {"error": "not found"})
    secrets = security.Secrets(settings.feishu_encrypt_key, settings.feishu_verification_token,
                               settings.feishu_encrypt_key_previous, settings.feishu_verification_token_previous)
    try:
        payload = security.authenticate(body, headers, secrets, now=ctx.clock(),
                                        window=settings.assessbot_replay_window_seconds)
    except security.Rejected as exc:
        legacy = _legacy_card(ctx, body, headers, secrets) if exc.reason == "signature mismatch" else None
        if legacy is not None:
            return legacy
        log.warning("request rejected", extra={"status": exc.status, "reason": exc.reason})
        return Answer(exc.status, UNAUTHORIZED if exc.status == 401 else {"error": "bad request"})
    return handle_payload(ctx, payload, payload.key)


def _legacy_card(ctx: Context, body: bytes, headers: Mapping[str, str], secrets: security.Secrets) -> Answer | None:
    """A 1.0 card callback (the older "message card request URL"), signed with sha1 and the Verification Token:
    the same actions and answers as `card.action.trigger`, in the 1.0 answer shape. None: not one.

    https://open.feishu.cn/document/deprecated-guide/message-card/configuring-card-callbacks/card-callback-structure
    """
    found = _legacy_payload(ctx, body, headers, secrets)
    if found is None or not events.is_legacy_card(found[0]):
        return None
    payload, key = found
    try:
        event = events.parse_legacy_card(payload)
    except events.Malformed as exc:
        log.warning("malformed legacy card callback", extra={"reason": str(exc)[:200]})
        return Answer(400, {"error": "bad request"})
    result = _guard(event.event_id, lambda: _card(ctx, event, key, legacy=True),
                    Answer(200, callback_answer(toast=SORRY)), lambda: not_saved(ctx, event))
    return Answer(result.status, legacy_answer(dict(result.body)), result.after)


def _legacy_payload(ctx: Context, body: bytes, headers: Mapping[str, str],
                    secrets: security.Secrets) -> tuple[dict, str] | None:
    """The payload and which Verification Token (current or previous) signed it the 1.0 way; None: neither."""
    for key, token in secrets.verification_tokens().items():
        try:
            return security.authenticate_legacy_card(body, headers, security.Secrets(secrets.encrypt_key, token),
                                                     now=ctx.clock(),
                                                     window=ctx.settings.assessbot_replay_window_seconds), key
        except security.Rejected:
            continue
    return None


def legacy_answer(body: dict) -> dict:
    """A `card.action.trigger` answer in the 1.0 shape: the toast beside the card's own fields at top level."""
    card = body.get("card")
    if not isinstance(card, dict):
        return body
    toast_only = {k: v for k, v in body.items() if k != "card"}
    if card.get("type") == "raw" and isinstance(card.get("data"), dict):
        return {**toast_only, **card["data"]}
    return {**toast_only, **card}  # a template answer: {"toast", "type": "template", "data": …}


def handle_payload(ctx: Context, payload: dict, key: str | None = None) -> Answer:
    """Answer an authenticated payload, however it arrived (webhook or long connection).

    `key` says which secrets authenticated a webhook push (current or previous, during a rotation).
    """
    try:
        event = events.parse(payload)
    except events.Malformed as exc:
        log.warning("malformed event", extra={"reason": str(exc)[:200]})
        return Answer(400, {"error": "bad request"})
    if isinstance(event, events.UrlVerification):
        return Answer(200, {"challenge": event.challenge})
    if isinstance(event, events.MessageReceived):
        return _guard(event.event_id, lambda: _message(ctx, event, key), Answer(200, {}),
                      lambda: Answer(503, UNAVAILABLE))
    if isinstance(event, events.MenuClicked):
        return _guard(event.event_id, lambda: _menu(ctx, event), Answer(200, {}),
                      lambda: Answer(503, UNAVAILABLE))
    if isinstance(event, events.RecordChanged):
        return _guard(event.event_id, lambda: _table(ctx, event), Answer(200, {}), lambda: Answer(503, UNAVAILABLE))
    if isinstance(event, events.CardAction):
        return _guard(event.event_id, lambda: _card(ctx, event, key), Answer(200, callback_answer(toast=SORRY)),
                      lambda: not_saved(ctx, event))
    log.info("event ignored", extra={"event_type": event.event_type, "event_id": event.event_id})
    return Answer(200, {})


def _message(ctx: Context, event: events.MessageReceived, key: str | None) -> Answer:
    with ctx.store.request():  # one connection for the push's look-ups and its write
        on_message(ctx, event)
    log.info("message handled", extra={"event_id": event.event_id, **({"key": key} if key else {})})
    return Answer(200, {})


def _table(ctx: Context, event: events.RecordChanged) -> Answer:
    on_table_changed(ctx, event)
    log.info("table changed", extra={"event_id": event.event_id})
    return Answer(200, {})


def _menu(ctx: Context, event: events.MenuClicked) -> Answer:
    with ctx.store.request():
        on_menu(ctx, event)
    return Answer(200, {})


def _card(ctx: Context, event: events.CardAction | events.LegacyCardAction, key: str | None,
          legacy: bool = False) -> Answer:
    answer = on_card_action(ctx, event)
    log.info("card action handled", extra={"event_id": event.event_id, **({"key": key} if key else {}),
                                           **({"format": "1.0"} if legacy else {})})
    return answer


def _guard(event_id: str, run: Callable[[], Answer], fallback: Answer, refuse: Callable[[], Answer]) -> Answer:
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
