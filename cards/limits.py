"""Card limits as Feishu counts them: the request body that carries a card, and its elements (pure).

- 30 KB is the size of the *request body* (send, reply, update, callback answer), in which the card travels as
  an escaped JSON string (error 230025): https://open.feishu.cn/document/common-capabilities/message-card/message-card
- 200 counts *elements*, text elements included: "一张卡片最多支持 200 个元素（如 tag 为 plain_text 的文本元素）或组件"
  (error 300305): https://open.feishu.cn/document/feishu-cards/card-json-v2-structure

The bodies are built and serialized exactly as the bot sends them: lark-oapi writes request bodies with
`json.dumps(..., ensure_ascii=False)` (lark_oapi/core/json.py) and the web edge writes callback answers the same way.
The card builders' budget, the card checker and the local Open API all measure with this module.
"""

from __future__ import annotations

import json

# "30 KB" is not said in bytes; the stricter reading (30,000 rather than 30 × 1024 = 30,720) is the one that
# can never be refused, and the local Open API refuses above it too.
MAX_BODY_BYTES = 30_000
MAX_ELEMENTS = 200
UUID_CHARS = 50  # Feishu's limit for a message uuid; the bot cuts its own to this
TOAST_CHARS = 300  # the longest toast text the bot writes, per language

# The longest values the bot puts next to a card: ids are ASCII and far shorter than this in practice.
_ID = "x" * 64
_UUID = "x" * UUID_CHARS
_WIDE = "\U00020000" * TOAST_CHARS  # 4 bytes in UTF-8, the most a character can take
_WORST_TOAST = {"type": "warning", "content": _WIDE, "i18n": {"zh_cn": _WIDE, "en_us": _WIDE}}


def dumps(value: object) -> str:
    """JSON as lark-oapi and the web edge write it."""
    return json.dumps(value, ensure_ascii=False)


def send_body(card: dict, receive_id: str, uuid: str) -> dict:
    """POST /open-apis/im/v1/messages: https://open.feishu.cn/document/server-docs/im-v1/message/create"""
    return {"receive_id": receive_id, "msg_type": "interactive", "content": dumps(card), "uuid": uuid}


def reply_body(card: dict, uuid: str) -> dict:
    """POST /open-apis/im/v1/messages/:id/reply: https://open.feishu.cn/document/server-docs/im-v1/message/reply"""
    return {"content": dumps(card), "msg_type": "interactive", "uuid": uuid}


def update_body(card: dict) -> dict:
    """PATCH /open-apis/im/v1/messages/:id: https://open.feishu.cn/document/server-docs/im-v1/message-card/patch"""
    return {"content": dumps(card)}


def delayed_update_body(card: dict, token: str) -> dict:
    """POST /open-apis/interactive/v1/card/update (the card as an object, not a string)."""
    return {"token": token, "card": card}


def callback_answer(card: dict | None = None, toast: dict | None = None) -> dict:
    """A card callback's answer: a toast, a card that replaces the clicked one, or both.

    https://open.feishu.cn/document/feishu-cards/card-callback-communication
    """
    answer: dict = {"toast": toast} if toast is not None else {}
    if card is not None:
        answer["card"] = {"type": "raw", "data": card}
    return answer


def body_bytes(body: dict) -> int:
    """Bytes of a request body as it goes on the wire (UTF-8)."""
    return len(dumps(body).encode("utf-8"))


def wire_bytes(card: dict) -> int:
    """The largest request body that can carry this card, whichever way the bot sends it."""
    return max(body_bytes(send_body(card, _ID, _UUID)), body_bytes(reply_body(card, _UUID)),
               body_bytes(delayed_update_body(card, _ID)), body_bytes(callback_answer(card, _WORST_TOAST)))


def elements(card: object) -> int:
    """Elements as Feishu counts them: every object with a `tag`, components and text elements alike."""
    if isinstance(card, dict):
        own = 1 if isinstance(card.get("tag"), str) else 0
        return own + sum(elements(v) for v in card.values())
    if isinstance(card, list):
        return sum(elements(v) for v in card)
    return 0


def card_problems(card: dict) -> list[str]:
    """What goes over Feishu's limits for this card, wherever it is sent; empty when it fits."""
    found = []
    size = wire_bytes(card)
    if size > MAX_BODY_BYTES:
        found.append(f"card: a {size}-byte request body, more than {MAX_BODY_BYTES}")
    count = elements(card)
    if count > MAX_ELEMENTS:
        found.append(f"card: {count} elements, more than {MAX_ELEMENTS}")
    return found


def body_problems(body: dict, card: dict | None) -> list[str]:
    """What goes over the limits in one request body as received (the local Open API's check)."""
    found = []
    size = body_bytes(body)
    if size > MAX_BODY_BYTES:
        found.append(f"request body of {size} bytes, more than {MAX_BODY_BYTES}")
    count = elements(card) if card is not None else 0
    if count > MAX_ELEMENTS:
        found.append(f"card: {count} elements, more than {MAX_ELEMENTS}")
    return found


def fits(card: dict) -> bool:
    """Within both limits, whichever way the card is sent."""
    return not card_problems(card)
