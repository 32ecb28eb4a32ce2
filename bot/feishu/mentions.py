"""@-mentions in a message's text: find the bot's own, name everyone else, resolve a person (pure).

Feishu replaces each @mention by a placeholder `@_user_N` (N from 1) and lists the people in `mentions`:
https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
Keys are matched exactly: `@_user_1` is a prefix of `@_user_10`…`@_user_19`, so a key never matches when a
digit follows it, and longer keys are tried first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.feishu.events import Mention

PLACEHOLDER = re.compile(r"@_user_\d+")  # any placeholder, listed or not
UNKNOWN = "@"  # what a placeholder nobody is listed for becomes: the person cannot be named


@dataclass(frozen=True)
class Addressed:
    """A message's text without the bot's own mention, and the people it still mentions."""

    text: str
    mentions: tuple[Mention, ...]
    to_bot: bool  # the bot is among the mentions Feishu listed


@lru_cache(maxsize=256)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    ordered = sorted({k for k in keys if k}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("(?:" + "|".join(map(re.escape, ordered)) + r")(?!\d)")


def _mention_of_bot(text: str, mentions: Sequence[Mention], bot_open_id: str | None,
                    bot_name: str | None) -> Mention | None:
    if bot_open_id:
        return next((m for m in mentions if m.open_id == bot_open_id), None)
    # The bot's open_id is not known yet: a mention Feishu marks as a bot, else one with the bot's name,
    # else the mention the text starts with (a group command starts with the bot's mention).
    found = next((m for m in mentions if m.mentioned_type == "bot"), None)
    if found is None and bot_name:
        found = next((m for m in mentions if m.name == bot_name), None)
    if found is None:
        stripped = text.lstrip()
        found = next((m for m in sorted(mentions, key=lambda m: len(m.key), reverse=True)
                      if m.key and stripped.startswith(m.key) and not stripped[len(m.key):][:1].isdigit()), None)
    return found


def strip_bot(text: str, mentions: Sequence[Mention], bot_open_id: str | None, *,
              bot_name: str | None = None) -> Addressed:
    """Remove the bot's own mention wherever it stands; a line that held only the mention goes too."""
    bot = _mention_of_bot(text, mentions, bot_open_id, bot_name)
    if bot is None or not bot.key:
        return Addressed(text.strip(), tuple(mentions), False)
    # other keys that start with the bot's key (`@_user_1` vs `@_user_10`) must survive: match with the boundary
    pattern = re.compile(r"[ \t\u00a0\u3000]*" + re.escape(bot.key) + r"(?!\d)[ \t\u00a0\u3000]*")
    lines = []
    for line in text.split("\n"):
        kept = pattern.sub(_gap, line)
        if kept.strip() or not line.strip():  # drop only a line the mention emptied
            lines.append(kept)
    others = tuple(m for m in mentions if m.key != bot.key)
    return Addressed("\n".join(lines).strip(), others, True)


def _gap(match: re.Match[str]) -> str:
    """A space where the mention stood between words, nothing at a line's start or end."""
    inside = match.start() > 0 and match.end() < len(match.string)
    return " " if inside and match.group() != match.group().strip() else ""


def named(text: str, mentions: Sequence[Mention]) -> str:
    """Free text with every placeholder replaced by `@Name`, so that no `@_user_N` leaves the bot."""
    by_key = {m.key: m for m in mentions if m.key}
    pattern = _pattern(tuple(by_key))

    def name(match: re.Match[str]) -> str:
        who = by_key.get(match.group())
        return "@" + _safe(who.name) if who is not None and who.name else UNKNOWN

    if pattern is not None:
        text = pattern.sub(name, text)
    # a placeholder that `mentions` does not list (cut off, or typed by hand) must not leak either
    return PLACEHOLDER.sub(UNKNOWN, text)


def _safe(name: str) -> str:
    """A display name that cannot itself read as a placeholder."""
    return name.replace("@_user_", "@user_")


def open_id(token: str, mentions: Sequence[Mention]) -> str | None:
    """The open_id a value names when it is exactly one mention (`owner=@_user_2`); None otherwise."""
    word = token.strip()
    found = next((m for m in mentions if m.key and m.key == word), None)
    return (found.open_id or None) if found is not None else None


def placeholders(text: str) -> list[str]:
    """Every placeholder in the text, in order, each read whole (`@_user_12`, never `@_user_1`)."""
    return PLACEHOLDER.findall(text)


class Mentioned(Mapping[str, str]):
    """The people a message still mentions: each placeholder's open_id (`owner=@…`), and names for free text."""

    def __init__(self, mentions: Sequence[Mention] = ()):
        self.people = tuple(mentions)
        self._ids = {m.key: m.open_id for m in self.people if m.key}

    def __getitem__(self, key: str) -> str:
        return self._ids[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def named(self, text: str) -> str:
        """`named(text, …)` with these people."""
        return named(text, self.people)


def free_text(text: str, mentions: Mapping[str, str]) -> str:
    """Free text as it may leave the bot: every placeholder named (or `@` when the names are not known)."""
    return mentions.named(text) if isinstance(mentions, Mentioned) else named(text, ())


def unleak(value: object, mentions: Sequence[Mention]) -> object:
    """Every string inside a JSON-like value with its placeholders named: the last guard before Feishu."""
    if isinstance(value, str):
        return named(value, mentions) if "@_user_" in value else value
    if isinstance(value, dict):
        return {k: unleak(v, mentions) for k, v in value.items()}
    if isinstance(value, list):
        return [unleak(v, mentions) for v in value]
    return value
