"""Typed Feishu payloads, parsed once at the boundary: challenge, message received, card action."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, ValidationError

MESSAGE_RECEIVED = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"


class Malformed(Exception):
    """The payload is authentic but not shaped as documented."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class UrlVerification(_Frozen):
    """The challenge Feishu sends when the request URL is saved."""

    challenge: str


class Mention(_Frozen):
    """An @-mention inside a message: `key` is the `@_user_N` placeholder in the text."""

    key: str
    open_id: str
    name: str = ""


class MessageReceived(_Frozen):
    """`im.message.receive_v1`: https://open.feishu.cn/document/server-docs/im-v1/message/events/receive"""

    event_id: str
    message_id: str
    chat_id: str
    chat_type: str  # p2p | group
    message_type: str
    text: str | None  # decoded from the JSON-in-a-string content, for text messages
    mentions: tuple[Mention, ...] = ()
    sender_open_id: str
    sender_type: str
    create_time: str = ""


class CardAction(_Frozen):
    """`card.action.trigger`: https://open.feishu.cn/document/feishu-cards/card-callback-communication"""

    event_id: str
    operator_open_id: str
    update_token: str = ""
    tag: str = ""
    name: str = ""
    value: dict = {}
    form_value: dict = {}
    open_message_id: str = ""
    open_chat_id: str = ""


class Ignored(_Frozen):
    """Anything the bot deliberately does not act on (other event types, legacy shapes)."""

    event_type: str
    event_id: str = ""


Event = UrlVerification | MessageReceived | CardAction | Ignored


def parse(payload: dict) -> Event:
    """Turn an authenticated payload into a typed event; raise Malformed when a known type is misshapen."""
    try:
        if payload.get("type") == "url_verification":
            return UrlVerification.model_validate(payload)
        header = payload.get("header")
        if payload.get("schema") != "2.0" or not isinstance(header, dict):
            return Ignored(event_type=str(payload.get("type") or (payload.get("event") or {}).get("type") or "v1"))
        event_type = str(header.get("event_type", ""))
        event_id = str(header.get("event_id", ""))
        event = payload.get("event")
        if event_type == MESSAGE_RECEIVED:
            return _message(event_id, _dict(event))
        if event_type == CARD_ACTION:
            return _card_action(event_id, _dict(event))
        return Ignored(event_type=event_type, event_id=event_id)
    except (ValidationError, TypeError, AttributeError) as exc:
        raise Malformed(str(exc).splitlines()[0]) from None


def _dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise Malformed("event is not an object")
    return value


def _message(event_id: str, event: dict) -> MessageReceived:
    message = _dict(event.get("message"))
    sender = _dict(event.get("sender"))
    text = None
    if message.get("message_type") == "text":
        try:
            content = json.loads(message.get("content") or "")
        except (TypeError, ValueError):
            raise Malformed("message content is not JSON") from None
        if not isinstance(content, dict) or not isinstance(content.get("text"), str):
            raise Malformed("text message without text")
        text = content["text"]
    mentions = tuple(
        Mention(key=m.get("key", ""), open_id=(m.get("id") or {}).get("open_id", ""), name=m.get("name") or "")
        for m in message.get("mentions") or () if isinstance(m, dict)
    )
    return MessageReceived(
        event_id=event_id,
        message_id=message.get("message_id"),
        chat_id=message.get("chat_id"),
        chat_type=message.get("chat_type"),
        message_type=message.get("message_type"),
        text=text,
        mentions=mentions,
        sender_open_id=(sender.get("sender_id") or {}).get("open_id", ""),
        sender_type=sender.get("sender_type") or "",
        create_time=str(message.get("create_time") or ""),
    )


def _card_action(event_id: str, event: dict) -> CardAction:
    action = _dict(event.get("action"))
    context = event.get("context") if isinstance(event.get("context"), dict) else {}
    value = action.get("value")
    return CardAction(
        event_id=event_id,
        operator_open_id=_dict(event.get("operator")).get("open_id"),
        update_token=event.get("token") or "",
        tag=action.get("tag") or "",
        name=action.get("name") or "",
        value=value if isinstance(value, dict) else {},
        form_value=action.get("form_value") if isinstance(action.get("form_value"), dict) else {},
        open_message_id=context.get("open_message_id") or "",
        open_chat_id=context.get("open_chat_id") or "",
    )
