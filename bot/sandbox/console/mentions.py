"""Mentions typed in the console (`@name`), delivered as Feishu delivers them: placeholders and a list.

https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
"""

from __future__ import annotations

import hashlib
import re

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z][\w.-]{0,39}|[\u4e00-\u9fff]{1,10})")


def colleague(name: str) -> str:
    """The made-up open_id of a colleague the console mentions by name (the same name, the same id)."""
    return "ou_" + hashlib.sha256(name.casefold().encode()).hexdigest()[:32]


def mention(typed: str, bot_open_id: str) -> tuple[str, list[dict]]:
    """`@name` words as Feishu delivers them: `@_user_N` placeholders and a mentions list (`@assessbot`: the bot)."""
    found: list[dict] = []
    keys: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.casefold() not in keys:
            key = f"@_user_{len(keys) + 1}"
            keys[name.casefold()] = key
            open_id = bot_open_id if name.casefold() == "assessbot" else colleague(name)
            found.append({"key": key, "id": {"open_id": open_id}, "name": name, "tenant_key": "sandbox"})
        return keys[name.casefold()]

    return _MENTION.sub(placeholder, typed), found
