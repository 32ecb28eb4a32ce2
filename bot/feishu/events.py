"""Typed Feishu payloads, parsed once at the boundary: challenge, message received, card action."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.feishu.security import is_unicode

MESSAGE_RECEIVED = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"
MENU_CLICKED = "application.bot.menu_v6"
RECORD_CHANGED = "drive.file.bitable_record_changed_v1"


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
    mentioned_type: str = ""  # in the SDK's model, not in the doc's table: "user" or "bot" when given


class MessageReceived(_Frozen):
    """`im.message.receive_v1`: https://open.feishu.cn/document/server-docs/im-v1/message/events/receive"""

    event_id: str
    message_id: str
    chat_id: str
    chat_type: str  # p2p | group | topic_group
    message_type: str  # text | post | image | file | audio | media | sticker | …
    text: str | None  # text and post messages: what was typed, placeholders kept; None for other types
    mentions: tuple[Mention, ...] = ()
    sender_open_id: str
    sender_type: str  # user; app or bot when another bot wrote it
    create_time: str = ""  # milliseconds, as Feishu sends it (a string in the samples, a number in some)
    title: str = ""  # a post message's title, kept out of `text`
    parent_id: str = ""  # the message this one replies to (a reply only)
    file_key: str = ""  # a file message's file (content {"file_key", "file_name"}; no size is given)
    file_name: str = ""

    @property
    def in_group(self) -> bool:
        """Sent in a group or a topic group, not in a one-to-one chat."""
        return self.chat_type != "p2p"

    @property
    def from_bot(self) -> bool:
        """Written by an app or bot rather than a person."""
        return self.sender_type in ("app", "bot")


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


class LegacyCardAction(_Frozen):
    """A card callback in the 1.0 format ("message card request URL"); fields named as in CardAction.

    https://open.feishu.cn/document/deprecated-guide/message-card/configuring-card-callbacks/card-callback-structure
    It carries no event id: `event_id` is a digest of the payload, so a re-pushed click has the same one.
    """

    event_id: str
    operator_open_id: str
    update_token: str = ""  # top-level `token`: the card's update token (c-…), not the Verification Token
    tag: str = ""
    name: str = ""
    value: dict = {}
    form_value: dict = {}
    open_message_id: str = ""
    open_chat_id: str = ""
    user_id: str = ""
    tenant_key: str = ""
    timezone: str = ""


class MenuClicked(_Frozen):
    """`application.bot.menu_v6`: a person clicked an item of the bot's custom menu (private chat only).

    https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/bot/events/menu
    """

    event_id: str
    event_key: str  # the item's event id, as configured in the developer console (≤ 30 characters)
    operator_open_id: str
    timestamp: str = ""  # seconds, a string in the samples


class RecordChanged(_Frozen):
    """`drive.file.bitable_record_changed_v1`: records of a Bitable the app subscribed to were added, edited or
    deleted. https://open.feishu.cn/document/docs/bitable-v1/events/bitable_record_changed

    Only which table changed is kept: the bot reads the table again rather than trusting partial values.
    """

    event_id: str
    file_token: str  # the base's app_token
    table_id: str


class Ignored(_Frozen):
    """Anything the bot deliberately does not act on (other event types, legacy shapes)."""

    event_type: str
    event_id: str = ""


Event = UrlVerification | MessageReceived | CardAction | MenuClicked | RecordChanged | Ignored


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
        if event_type == MENU_CLICKED:
            return _menu(event_id, _dict(event))
        if event_type == RECORD_CHANGED:
            changed = _dict(event)
            return RecordChanged(event_id=event_id, file_token=changed.get("file_token"),
                                 table_id=changed.get("table_id"))
        return Ignored(event_type=event_type, event_id=event_id)
    except (ValidationError, TypeError, AttributeError) as exc:
        raise Malformed(str(exc).splitlines()[0]) from None


def is_legacy_card(payload: dict) -> bool:
    """A 1.0 card callback: no schema or header, but top-level `open_message_id` and `action`."""
    return "schema" not in payload and "header" not in payload and isinstance(payload.get("action"), dict) \
        and "open_message_id" in payload


def parse_legacy_card(payload: dict) -> LegacyCardAction:
    """Turn an authenticated 1.0 card callback into a typed action; raise Malformed when misshapen."""
    try:
        if not is_legacy_card(payload):
            raise Malformed("not a 1.0 card callback")
        action = payload["action"]
        value = action.get("value")
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return LegacyCardAction(
            event_id="card1_" + digest[:32],
            operator_open_id=payload.get("open_id"),
            update_token=payload.get("token") or "",
            tag=action.get("tag") or "",
            name=action.get("name") or "",
            value=value if isinstance(value, dict) else {},
            form_value=action.get("form_value") if isinstance(action.get("form_value"), dict) else {},
            open_message_id=payload.get("open_message_id") or "",
            open_chat_id=payload.get("open_chat_id") or "",
            user_id=payload.get("user_id") or "",
            tenant_key=payload.get("tenant_key") or "",
            timezone=action.get("timezone") or "",
        )
    except (ValidationError, TypeError, AttributeError, ValueError) as exc:
        raise Malformed(str(exc).splitlines()[0]) from None


def _dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise Malformed("event is not an object")
    return value


def _message(event_id: str, event: dict) -> MessageReceived:
    message = _dict(event.get("message"))
    sender = _dict(event.get("sender"))
    kind = message.get("message_type")
    text, title, file_key, file_name = None, "", "", ""
    if kind == "file":  # a file the bot cannot name is answered as one it does not read, never refused
        try:
            content = _content(message)
        except Malformed:
            content = {}
        file_key, file_name = _str(content.get("file_key")), _str(content.get("file_name"))
    elif kind == "text":
        content = _content(message)
        if not isinstance(content.get("text"), str):
            raise Malformed("text message without text")
        text = content["text"]
    elif kind == "post":
        title, text = post_text(_content(message))
    mentions = tuple(
        Mention(key=m.get("key") or "", open_id=(m.get("id") or {}).get("open_id") or "", name=m.get("name") or "",
                mentioned_type=m.get("mentioned_type") or "")
        for m in message.get("mentions") or () if isinstance(m, dict)
    )
    created = message.get("create_time")
    return MessageReceived(
        event_id=event_id,
        message_id=message.get("message_id"),
        chat_id=message.get("chat_id"),
        chat_type=message.get("chat_type"),
        message_type=kind,
        text=text,
        mentions=mentions,
        sender_open_id=(sender.get("sender_id") or {}).get("open_id") or "",
        sender_type=sender.get("sender_type") or "",
        create_time="" if created is None or isinstance(created, bool) else str(created),
        title=title,
        parent_id=_str(message.get("parent_id")),
        file_key=file_key,
        file_name=file_name,
    )


def _content(message: dict) -> dict:
    try:
        content = json.loads(message.get("content") or "")
    except (TypeError, ValueError, RecursionError):
        raise Malformed("message content is not JSON") from None
    if not isinstance(content, dict):
        raise Malformed("message content is not an object")
    if not is_unicode(content, message.get("content")):
        raise Malformed("message content holds a lone surrogate, which is not text")
    return content


def post_text(content: dict) -> tuple[str, str]:
    """A post's (title, text): paragraphs on their own lines, `at` as its `@_user_N`, links as their text.

    Shape: https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
    (`{"title", "content": [[element, …], …]}`, sometimes under a locale key such as `zh_cn`).
    """
    if "content" not in content:
        content = next((v for v in content.values() if isinstance(v, dict) and "content" in v), {})
    paragraphs = content.get("content")
    if not isinstance(paragraphs, list):
        raise Malformed("post message without paragraphs")
    lines = ["".join(_post_element(e) for e in p if isinstance(e, dict)) if isinstance(p, list) else ""
             for p in paragraphs]
    title = content.get("title")
    return (title if isinstance(title, str) else ""), "\n".join(lines).strip("\n")


def _post_element(element: dict) -> str:
    tag = element.get("tag")
    if tag in ("text", "code_block"):
        return _str(element.get("text"))
    if tag == "a":
        return _str(element.get("text")) or _str(element.get("href"))
    if tag == "at":
        who, name = _str(element.get("user_id")), _str(element.get("user_name"))
        return who if who.startswith("@_user_") else "@" + (name or who) if name or who else ""
    return ""  # img, media, emotion, hr: nothing a command reads


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _menu(event_id: str, event: dict) -> MenuClicked:
    operator = _dict(_dict(event.get("operator")).get("operator_id"))
    stamp = event.get("timestamp")
    return MenuClicked(event_id=event_id, event_key=event.get("event_key"), operator_open_id=operator.get("open_id"),
                       timestamp="" if stamp is None or isinstance(stamp, bool) else str(stamp))


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
