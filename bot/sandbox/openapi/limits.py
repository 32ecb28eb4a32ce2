"""Feishu's limits as the local Open API enforces them, taken from Feishu's pages, not from the bot's `cards.limits`.

The stand-in measures what it receives with its own ruler, so a card builder that miscounts is refused here
instead of being judged by its own arithmetic. tests/unit/cards/test_card_limits.py checks that the two agree.
"""

from __future__ import annotations

import json

# "卡片整体数据不可超过 30 KB" (230025, "message is too long"), counted on the whole request body that carries the
# card (send, reply, update, callback answer), the card inside it as an escaped JSON string. "30 KB" is not said
# in bytes: 30,000 is the reading that can never be refused.
# https://open.feishu.cn/document/common-capabilities/message-card/message-card
CARD_BODY_BYTES = 30_000
# "一张卡片最多支持 200 个元素（如 tag 为 plain_text 的文本元素）或组件" (ErrCode 11310 inside 230099):
# every object with a tag. https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
CARD_ELEMENTS = 200
# Send and reply: a text message's body at most 150 KB (230025).
# https://open.feishu.cn/document/server-docs/im-v1/message/reply
TEXT_BYTES = 150 * 1024
# `uuid`: at most 50 characters; "持有相同 uuid 的请求，在 1 小时内至多成功回复一条消息".
# https://open.feishu.cn/document/server-docs/im-v1/message/reply
UUID_CHARS = 50
UUID_WINDOW = 3600

def body_bytes(body: dict) -> int:
    """A request body's size in bytes as it came: JSON in UTF-8, non-ASCII characters unescaped (as lark-oapi
    writes it)."""
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def elements(node: object) -> int:
    """Elements as Feishu counts them: every object that has a `tag`, components and text elements alike."""
    count, stack = 0, [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += isinstance(item.get("tag"), str)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count
