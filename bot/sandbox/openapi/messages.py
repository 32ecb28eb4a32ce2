"""The sandbox's messages: what the bot sent and updated, uuid dedupe, and card callback tokens.

Reply: https://open.feishu.cn/document/server-docs/im-v1/message/reply
Send: https://open.feishu.cn/document/server-docs/im-v1/message/create
Update a card: https://open.feishu.cn/document/server-docs/im-v1/message-card/patch
Delayed update: https://open.feishu.cn/document/server-docs/im-v1/message-card/delay-update-message-card
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import threading
from collections.abc import Callable

from bot.sandbox.openapi import limits
from bot.sandbox.openapi.checks import card_problems
from bot.sandbox.openapi.wire import OpenAPIError, field_invalid

SANDBOX_CHAT = "oc_sandbox000000000000000000000000"  # where replies to messages the sandbox never saw land
RECEIVE_ID_TYPES = ("open_id", "union_id", "user_id", "email", "chat_id")
CALLBACK_TOKEN_TTL = 1800
CALLBACK_TOKEN_USES = 2
CARD_UPDATE_WINDOW = 14 * 86400


class Messages:
    """Every message in the sandbox, by id, in the order they came; guarded by the sandbox's lock."""

    def __init__(self, lock: threading.RLock, clock: Callable[[], float], app_id: str,
                 new_id: Callable[[], str] | None = None):
        self.lock, self.clock, self.app_id = lock, clock, app_id
        self.new_id = new_id or (lambda: "om_" + secrets.token_hex(16))
        self.clear()

    def clear(self) -> None:
        self.by_id: dict[str, dict] = {}
        self.uuids: dict[str, tuple[str, float]] = {}  # uuid -> (message id, when)
        self.callback_tokens: dict[str, dict] = {}  # c-... -> {message_id, issued, uses}

    def load(self, saved: list[dict]) -> None:
        for message in saved:
            self.by_id[message["message_id"]] = message
            if message.get("uuid"):
                self.uuids[message["uuid"]] = (message["message_id"], message["time"])

    def listed(self, chat_id: str | None = None) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(m) for m in self.by_id.values() if chat_id in (None, m["chat_id"])]

    def record_user_message(self, message_id: str, chat_id: str, sender: str, text: str) -> dict:
        now = self.clock()
        message = _message(message_id, chat_id, sender, "text", json.dumps({"text": text}, ensure_ascii=False),
                           now, "user", text=text)
        with self.lock:
            self.by_id[message_id] = message
            return copy.deepcopy(message)

    def record_user_file(self, message_id: str, chat_id: str, sender: str, file_name: str, data: bytes,
                         file_key: str | None = None) -> str:
        """A file a user sent (content {"file_key", "file_name"}, as Feishu pushes it); its file_key."""
        file_key = file_key or "file_v3_" + secrets.token_hex(12)
        content = json.dumps({"file_key": file_key, "file_name": file_name}, ensure_ascii=False)
        message = _message(message_id, chat_id, sender, "file", content, self.clock(), "user")
        message["file"] = {"key": file_key, "name": file_name, "data": base64.b64encode(data).decode()}
        with self.lock:
            self.by_id[message_id] = message
        return file_key

    def record_bot_card(self, message_id: str, chat_id: str, card: dict) -> None:
        """A card the bot sent before this sandbox started (so it can be updated, and a callback token issued)."""
        content = json.dumps(card, ensure_ascii=False)
        message = _message(message_id, chat_id, "app", "interactive", content, self.clock(), "send", card=card)
        with self.lock:
            self.by_id.setdefault(message_id, message)

    def resource(self, message_id: str, file_key: str, kind: str | None) -> tuple[bytes, str]:
        """A file in a message: https://open.feishu.cn/document/server-docs/im-v1/message/get-2 (`type` is
        required; a key that is not the message's is 234003)."""
        if kind not in ("file", "image"):
            raise field_invalid("type: required, file or image")
        with self.lock:
            held = (self.by_id.get(message_id) or {}).get("file")
        if not held or held["key"] != file_key:
            raise OpenAPIError(400, 234003, "File not in message.")
        return base64.b64decode(held["data"]), held["name"]

    def get(self, message_id: str) -> dict:
        """One message as GET /open-apis/im/v1/messages/:message_id answers (`items` of one)."""
        with self.lock:
            message = self.by_id.get(message_id)
            if message is None:
                raise OpenAPIError(400, 230001, f"invalid message_id: {message_id}")
            item = {"message_id": message_id, "msg_type": message["msg_type"], "chat_id": message["chat_id"],
                    "body": {"content": message["content"]}, "create_time": str(int(message["time"] * 1000))}
        return {"items": [item]}

    def reply(self, parent_id: str, body: dict) -> tuple[dict, bool]:
        """Feishu's answer `data` for a reply, and whether a message was created (False: a repeated uuid)."""
        reply_in_thread = body.get("reply_in_thread", False)
        if not isinstance(reply_in_thread, bool):
            raise field_invalid("reply_in_thread must be a boolean")
        with self.lock:
            parent = self.by_id.get(parent_id) or {}
            thread_id = parent.get("thread_id") or ("omt_" + secrets.token_hex(6) if reply_in_thread else None)
            return self._create(body, "reply", chat_id=parent.get("chat_id") or SANDBOX_CHAT, parent_id=parent_id,
                                root_id=parent.get("root_id") or parent_id, thread_id=thread_id)

    def send(self, receive_id_type: str | None, body: dict) -> tuple[dict, bool]:
        """Feishu's answer `data` for a new message, and whether one was created."""
        if receive_id_type not in RECEIVE_ID_TYPES:
            raise field_invalid(f"receive_id_type must be one of {', '.join(RECEIVE_ID_TYPES)}")
        receive_id = body.get("receive_id")
        if not isinstance(receive_id, str) or not receive_id:
            raise field_invalid("receive_id is required")
        # one chat per person, so everything sent to someone reads as one conversation
        chat_id = receive_id if receive_id_type == "chat_id" else "oc_" + hashlib.sha256(
            receive_id.encode()).hexdigest()[:32]
        with self.lock:
            return self._create(body, "send", chat_id=chat_id, receive_id=receive_id,
                                receive_id_type=receive_id_type)

    def _create(self, body: dict, via: str, chat_id: str, **where: object) -> tuple[dict, bool]:
        card, text = _content(body)
        uuid = body.get("uuid")
        if uuid is not None and (not isinstance(uuid, str) or len(uuid) > limits.UUID_CHARS):
            raise field_invalid(f"uuid must be a string of at most {limits.UUID_CHARS} characters")
        now = self.clock()
        if uuid and (seen := self.uuids.get(uuid)) and now - seen[1] < limits.UUID_WINDOW:
            return self._data(self.by_id[seen[0]]), False
        message = _message(self.new_id(), chat_id, "app", body["msg_type"], body["content"], now,
                           via, text=text, card=card, uuid=uuid, **where)
        self.by_id[message["message_id"]] = message
        if uuid:
            self.uuids[uuid] = (message["message_id"], now)
        return self._data(message), True

    def _data(self, message: dict) -> dict:
        millis = str(int(message["time"] * 1000))
        data = {"message_id": message["message_id"], "msg_type": message["msg_type"], "create_time": millis,
                "update_time": millis, "deleted": False, "updated": message["updated"],
                "chat_id": message["chat_id"], "body": {"content": message["content"]},
                "sender": {"id": self.app_id, "id_type": "app_id", "sender_type": "app", "tenant_key": "sandbox"}}
        data.update({key: message[key] for key in ("root_id", "parent_id", "thread_id") if message.get(key)})
        if message.get("parent_id"):
            data["upper_message_id"] = message["parent_id"]
        return data

    def patch(self, message_id: str, body: dict) -> None:
        """Replace a card the bot sent with the one in body["content"]."""
        if not isinstance(body.get("content"), str):
            raise field_invalid("content is required")
        card, _ = _content({"msg_type": "interactive", "content": body["content"]}, sent=body)
        with self.lock:
            message = self.by_id.get(message_id)
            if message is None or message["sender"] != "app" or message["msg_type"] != "interactive":
                raise OpenAPIError(400, 230001, f"invalid message_id: {message_id} is not a card the bot sent")
            if self.clock() - message["time"] > CARD_UPDATE_WINDOW:
                raise OpenAPIError(400, 230031, "the message was sent more than 14 days ago")
            self._update(message, card, "message_patch", body["content"])  # type: ignore[arg-type]

    def issue_callback_token(self, message_id: str) -> str:
        with self.lock:
            if message_id not in self.by_id:
                raise KeyError(f"no message {message_id}")
            token = "c-" + secrets.token_hex(16)
            self.callback_tokens[token] = {"message_id": message_id, "issued": self.clock(), "uses": 0}
            return token

    def delayed_update(self, body: dict) -> None:
        """Replace the card a callback token was issued for (30 minutes, two uses)."""
        token, card = body.get("token"), body.get("card")
        with self.lock:
            entry = self.callback_tokens.get(token) if isinstance(token, str) else None
            if entry is None:
                raise OpenAPIError(400, 300020, "invalid token: not a callback token this app was given")
            if self.clock() - entry["issued"] > CALLBACK_TOKEN_TTL:
                raise OpenAPIError(400, 300030, "token expired: valid for 30 minutes")
            if entry["uses"] >= CALLBACK_TOKEN_USES:
                raise OpenAPIError(400, 300040, "token used more than 2 times")
            problems = _card_problems(card, body) if isinstance(card, dict) else ["card: not an object"]
            if problems:
                raise OpenAPIError(400, 11311, f"card format error: {'; '.join(problems)}")
            entry["uses"] += 1  # only an update that went through spends a use
            self._update(self.by_id[entry["message_id"]], card, "card_update",  # type: ignore[arg-type]
                         json.dumps(card, ensure_ascii=False))

    def _update(self, message: dict, card: dict, via: str, content: str) -> None:
        message.update(card=card, content=content, updated=True)
        message["history"].append({"via": via, "time": self.clock(), "card": card})


def _message(message_id: str, chat_id: str, sender: str, msg_type: str, content: str, now: float, via: str,
             text: str | None = None, card: dict | None = None, uuid: str | None = None, **where: object) -> dict:
    return {"message_id": message_id, "chat_id": chat_id, "sender": sender, "msg_type": msg_type,
            "content": content, "text": text, "card": card, "uuid": uuid, "parent_id": None, "root_id": None,
            "thread_id": None, "time": now, "updated": False, "history": [{"via": via, "time": now, "card": card}],
            **where}


def _content(body: dict, sent: dict | None = None) -> tuple[dict | None, str | None]:
    """The card or the text a message body carries, or the error Feishu would answer; `sent`: the body as sent."""
    msg_type, content = body.get("msg_type"), body.get("content")
    if not isinstance(content, str):
        raise field_invalid("content must be a string holding JSON")
    size = len(content.encode("utf-8"))
    if msg_type == "text":
        try:
            text = json.loads(content).get("text")
        except (ValueError, AttributeError):
            text = None
        if not isinstance(text, str):
            raise OpenAPIError(400, 230001, 'invalid message content: a text is {"text": "..."}')
        if size > limits.TEXT_BYTES:
            raise OpenAPIError(400, 230025, f"message is too long: {size} bytes, a text may have {limits.TEXT_BYTES}")
        return None, text
    if msg_type != "interactive":
        raise OpenAPIError(400, 230054, f"unsupported message type {msg_type!r}: the sandbox knows text and "
                                        "interactive")
    try:
        card = json.loads(content)
    except ValueError:
        card = None
    problems = _card_problems(card, sent or body) if isinstance(card, dict) else ["unmarshal card failed"]
    if problems:
        raise OpenAPIError(400, 230099, f"Failed to create card content, ext=ErrCode: 200621; "
                                        f"ErrMsg: {'; '.join(problems)}")
    return card, None


def _card_problems(card: object, body: dict) -> list[str]:
    """What is wrong with a card; limits are their own errors, counted as Feishu counts them (the stand-in's own
    `limits`, not the bot's).

    Too big (230025) is the whole request body, the card inside it as an escaped string; too many elements
    (230099, ErrCode 11310) counts text elements too.
    """
    size = limits.body_bytes(body)
    if size > limits.CARD_BODY_BYTES:
        raise OpenAPIError(400, 230025, f"message is too long: a {size}-byte request body, a card message may "
                                        f"have {limits.CARD_BODY_BYTES}")
    count = limits.elements(card)
    if count > limits.CARD_ELEMENTS:
        raise OpenAPIError(400, 230099, f"Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds "
                                        f"the limit: {count} elements, at most {limits.CARD_ELEMENTS}")
    return card_problems(card, wire=False)
