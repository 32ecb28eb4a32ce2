"""Pushing to the app as Feishu does: the documented payloads, encrypted and signed."""

from __future__ import annotations

import copy
import itertools
import json

from bot.feishu import security
from bot.sandbox.openapi.backend import FakeOpenAPI
from tests.support.clock import FakeClock
from tests.support.ids import ALICE, ENCRYPT_KEY, TOKEN, load_payload


def encrypt(payload: dict | bytes, key: str = ENCRYPT_KEY, iv: bytes | None = None) -> bytes:
    """A body as Feishu encrypts it (with the tests' Encrypt Key by default)."""
    return security.encrypt(payload, key, iv)


def sign(timestamp: str, nonce: str, body: bytes, key: str = ENCRYPT_KEY) -> str:
    return security.signature(timestamp, nonce, key, body)


class Push:
    """Sends requests to the app as Feishu would: the documented payloads, encrypted and signed."""

    def __init__(self, client, clock: FakeClock, feishu: FakeOpenAPI | None = None):
        self.client, self.clock, self.feishu = client, clock, feishu
        self.ids = itertools.count(1)

    def post(self, payload: dict | bytes, *, encrypted: bool = True, signed: bool = True, headers: dict | None = None):
        if encrypted:
            body = encrypt(payload)
        else:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {}
        if signed:
            ts, nonce = str(int(self.clock())), f"nonce{next(self.ids)}"
            sent = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": sign(ts, nonce, body)}
        sent.update(headers or {})
        return self.client.post("/feishu/events", data=body, headers=sent, content_type="application/json")

    def message_payload(self, text: str, *, chat_type: str = "p2p", sender: str = ALICE, event_id: str | None = None,
                        message_id: str | None = None, mentions: list[dict] | None = None,
                        message_type: str = "text", sender_type: str = "user") -> dict:
        n = next(self.ids)
        payload = copy.deepcopy(load_payload("im_message_receive_v1.json"))
        payload["header"]["token"] = TOKEN
        payload["header"]["event_id"] = event_id or f"ev{n:030d}"
        message = payload["event"]["message"]
        message.update(message_id=message_id or f"om_{n:032d}", chat_type=chat_type, message_type=message_type,
                       chat_id="oc_group0001" if chat_type == "group" else "oc_p2p0001",
                       content=json.dumps({"text": text}, ensure_ascii=False), mentions=mentions or [])
        payload["event"]["sender"]["sender_id"]["open_id"] = sender
        payload["event"]["sender"]["sender_type"] = sender_type
        if self.feishu is not None and message_type == "text":  # Feishu holds what it pushes
            self.feishu.record_user_message(message["message_id"], message["chat_id"], sender, text)
        return payload

    def message(self, text: str, *, parent_id: str | None = None, **kwargs):
        payload = self.message_payload(text, **kwargs)
        if parent_id is not None:
            payload["event"]["message"].update(parent_id=parent_id, root_id=parent_id)
        return self.post(payload)

    def file_payload(self, file_key: str, file_name: str, **kwargs) -> dict:
        """A file message, its content as documented: {"file_key", "file_name"} (no size)."""
        payload = self.message_payload("", message_type="file", **kwargs)
        payload["event"]["message"]["content"] = json.dumps({"file_key": file_key, "file_name": file_name},
                                                            ensure_ascii=False)
        return payload

    def file(self, file_key: str, file_name: str, **kwargs):
        return self.post(self.file_payload(file_key, file_name, **kwargs))

    def card_payload(self, value: dict, form_value: dict | None = None, *, operator: str = ALICE,
                     event_id: str | None = None, message_id: str = "om_card0001") -> dict:
        n = next(self.ids)
        payload = copy.deepcopy(load_payload("card_action_trigger.json"))
        payload["header"]["token"] = TOKEN
        payload["header"]["event_id"] = event_id or f"cb{n:030d}"
        payload["event"]["operator"]["open_id"] = operator
        payload["event"]["token"] = f"c-callbacktoken{n:020d}"
        if self.feishu is not None:  # the card acted on is one the bot sent, with a token Feishu issued for it
            self.feishu.record_bot_card(message_id, "oc_p2p0001", {"schema": "2.0", "body": {"elements": []}})
            payload["event"]["token"] = self.feishu.issue_callback_token(message_id)
        payload["event"]["action"].update(value=value, form_value=form_value or {}, name="submit")
        payload["event"]["context"].update(open_message_id=message_id, open_chat_id="oc_p2p0001")
        return payload

    def card(self, value: dict, form_value: dict | None = None, **kwargs):
        return self.post(self.card_payload(value, form_value, **kwargs))
