"""Feishu's side of a push: build the documented event and callback payloads, encrypt and sign them.

Used by the console, the benchmarks and the process tests to talk to the bot exactly as Feishu does; the
encryption and the signature are the product's own (bot.feishu.security).
"""

from __future__ import annotations

import json
import time
import uuid

import requests

from bot.feishu.security import encrypt, signature


def sealed(payload: dict, encrypt_key: str, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one push, encrypted and signed."""
    body = encrypt(payload, encrypt_key)
    timestamp, nonce = str(int(now if now is not None else time.time())), uuid.uuid4().hex[:16]
    return body, {"Content-Type": "application/json; charset=utf-8", "X-Lark-Request-Timestamp": timestamp,
                  "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": signature(timestamp, nonce, encrypt_key, body)}


def deliver(url: str, payload: dict, encrypt_key: str, timeout: float = 10.0) -> tuple[int | None, float]:
    """One delivery to the bot's /feishu/events, freshly sealed: the HTTP status (None: no answer) and seconds."""
    body, headers = sealed(payload, encrypt_key)
    started = time.perf_counter()
    try:
        status: int | None = requests.post(f"{url}/feishu/events", data=body, headers=headers,
                                           timeout=timeout).status_code
    except requests.RequestException:
        status = None
    return status, time.perf_counter() - started


def message_event(text: str, *, token: str, sender: str, chat_id: str, chat_type: str = "p2p",
                  message_id: str | None = None, event_id: str | None = None,
                  mentions: list[dict] | None = None, app_id: str = "cli_sandbox", message_type: str = "text",
                  content: dict | None = None, parent_id: str | None = None) -> dict:
    """An `im.message.receive_v1` push, shaped as the documented sample; `content` for another type than text (a
    file: {"file_key", "file_name"})."""
    message_id = message_id or f"om_{uuid.uuid4().hex}"
    now_ms = str(int(time.time() * 1000))
    return {
        "schema": "2.0",
        "header": {"event_id": event_id or uuid.uuid4().hex, "event_type": "im.message.receive_v1",
                   "create_time": now_ms, "token": token, "app_id": app_id, "tenant_key": "sandbox"},
        "event": {
            "sender": {"sender_id": {"open_id": sender, "union_id": "on_" + sender[3:], "user_id": sender[3:11]},
                       "sender_type": "user", "tenant_key": "sandbox"},
            "message": {"message_id": message_id, "create_time": now_ms, "update_time": now_ms, "chat_id": chat_id,
                        "chat_type": chat_type, "message_type": message_type,
                        "content": json.dumps(content if content is not None else {"text": text},
                                              ensure_ascii=False), "mentions": mentions or [],
                        **({"parent_id": parent_id, "root_id": parent_id} if parent_id else {})},
        },
    }


def card_action(value: dict, form_value: dict | None, *, token: str, operator: str, message_id: str,
                chat_id: str, callback_token: str, event_id: str | None = None, tag: str = "button",
                name: str = "submit", app_id: str = "cli_sandbox") -> dict:
    """A `card.action.trigger` callback, shaped as the documented form-submit sample."""
    action: dict = {"value": value, "tag": tag, "name": name}
    if form_value is not None:
        action["form_value"] = form_value
    return {
        "schema": "2.0",
        "header": {"event_id": event_id or uuid.uuid4().hex, "token": token, "create_time": str(int(time.time() * 1e6)),
                   "event_type": "card.action.trigger", "tenant_key": "sandbox", "app_id": app_id},
        "event": {"operator": {"tenant_key": "sandbox", "open_id": operator, "union_id": "on_" + operator[3:]},
                  "token": callback_token, "action": action, "host": "im_message",
                  "context": {"open_message_id": message_id, "open_chat_id": chat_id}},
    }
