"""The grammar of a command's arguments: bare words and name=value pairs, quotes, full-width punctuation.

Mentions arrive as `@_user_N` placeholders in the text:
https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.assessment import parse_conclusion
from bot.commands.base import Wrong
from bot.values import FULLWIDTH_NUMERALS

COMMAND_CHARS = str.maketrans({"／": "/", "？": "?"})
_SEPARATORS = "=＝:："
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}
NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
ASSESSMENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
MENTION = re.compile(r"@_user_[0-9]+")
_COMMAS = ",，"
# A comma followed by `name=` ends an unquoted value: Chinese input methods put "，" between fields.
_NEXT_FIELD = re.compile(r"[,，](?=[^\s=＝:：,，\"'“‘「『]+[=＝:：])")


@dataclass(frozen=True)
class Token:
    key: str | None  # None for a bare word
    value: str
    text: str  # as typed, for messages


def tokens(args: str) -> list[Token]:
    """Split arguments into bare words and key=value pairs; quotes keep spaces and `=` inside a value, and spaces
    inside a name ("System design"=4, for a form's titles)."""
    found: list[Token] = []
    i, n = 0, len(args)
    while True:
        while i < n and (args[i].isspace() or args[i] in _COMMAS):
            i += 1
        if i == n:
            return found
        start, key = i, None
        opens_quote = args[i] in _QUOTES
        while (not opens_quote and i < n and not args[i].isspace() and args[i] not in _SEPARATORS
               and args[i] not in _COMMAS):
            i += 1
        if i < n and args[i] in _SEPARATORS:
            key, i = args[start:i], i + 1
            if not key:
                typed = snippet(word_at(args, start))
                raise Wrong(f"“{typed}”在“{args[start]}”前面缺少名称。",
                            f"'{typed}' has no name before '{args[start]}'.")
            if i == n or args[i].isspace():
                raise Wrong(f"“{args[start:i]}”缺少值。", f"'{args[start:i]}' has no value.")
        if key is None and i == start and i < n and args[i] in _QUOTES:
            quoted, after = _quoted(args, i, start)
            if after < n and args[after] in _SEPARATORS and quoted.strip():  # a quoted name: "System design"=4
                key, i = quoted, after + 1
                if i == n or args[i].isspace():
                    raise Wrong(f"“{args[start:i]}”缺少值。", f"'{args[start:i]}' has no value.")
        if i < n and args[i] in _QUOTES and (key is not None or i == start):
            value, i = _quoted(args, i, start)
            if i < n and not args[i].isspace() and args[i] not in _COMMAS:
                raise _after_quote(args[start:i], word_at(args, i))
        elif key is not None:
            value = word_at(args, i)
            if cut := _NEXT_FIELD.search(value):
                value = value[:cut.start()]
            i += len(value)
        else:
            value = args[start:i]
        found.append(Token(key=key, value=value, text=args[start:i]))


def _quoted(args: str, opening: int, start: int) -> tuple[str, int]:
    """The text inside the quote opened at `opening`, and the index after its closing quote."""
    closing = args.find(_QUOTES[args[opening]], opening + 1)
    if closing < 0:
        typed = snippet(args[start:])
        raise Wrong(f"引号 {args[opening]} 没有结束：“{typed}”。",
                    f"The quote {args[opening]} is never closed: '{typed}'.")
    return args[opening + 1:closing], closing + 1


def word_at(args: str, i: int) -> str:
    end = i
    while end < len(args) and not args[end].isspace():
        end += 1
    return args[i:end]


def snippet(text: str, limit: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def numeral(value: str) -> str:
    """Full-width digits made ASCII when the value is a number; any other text stays as typed."""
    normal = value.translate(FULLWIDTH_NUMERALS)
    return normal if NUMBER.fullmatch(normal) else value


def _after_quote(quoted: str, rest: str) -> Wrong:
    typed = snippet(quoted + rest)
    return Wrong(
        f"“{typed}”中引号结束后紧跟着“{snippet(rest)}”；请在引号后加空格，或用另一种引号（如「…」）括起含引号的内容。",
        f"'{snippet(rest)}' follows the closing quote in '{typed}'; put a space after the quote, "
        "or wrap a value that holds quotes in other quotes such as 「…」.")


def assessment_id(token: Token) -> str:
    """The assessment id a token holds; a conclusion word where the id belongs means the id is missing."""
    if parse_conclusion(token.value) and not token.value.strip().isdigit():
        raise missing_id()
    found = token.value.translate(FULLWIDTH_NUMERALS)
    if not ASSESSMENT_ID.fullmatch(found):
        typed = snippet(token.text)
        raise Wrong(f"“{typed}”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
                   f"'{typed}' is not an assessment id (use digits, letters, _ or -).")
    return found


def missing_id() -> Wrong:
    return Wrong("缺少面评 ID（紧跟在命令后面）。", "The assessment id is missing (it comes right after the command).")


def subject(token: Token) -> str:
    """What a command is about: an assessment id, or words naming one of the person's interviews."""
    if ASSESSMENT_ID.fullmatch(token.value.translate(FULLWIDTH_NUMERALS)) or any(c.isdigit() for c in token.value):
        return assessment_id(token)  # an id, or a mistyped one (names hold no digits)
    if parse_conclusion(token.value):
        raise missing_id()
    return token.value.strip()
