"""The chat commands: one declaration per command gives its parser and its help; `parse(text)` reads a message.

Mentions arrive as `@_user_N` placeholders in the text:
https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.assessment import CONCLUSION_WORDS, RawFields, parse_conclusion, suggest
from bot.rubric import Rubric


class CommandProblem(Exception):
    """A known command with arguments that cannot be read: a failure the user may see."""

    def __init__(self, zh: str, en: str, *, usage: str | None = None, suggestion: str | None = None,
                 command: str | None = None):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.usage = usage  # how the command is written, to show next to the message
        self.suggestion = suggestion  # what the user probably meant, when something is close
        self.command = command  # the command concerned (for a mistyped command word, the one suggested)


class _Wrong(Exception):
    """A problem found while reading one command's arguments; `parse` adds the command and its usage."""

    def __init__(self, zh: str, en: str, suggestion: str | None = None):
        super().__init__(en)
        self.zh, self.en, self.suggestion = zh, en, suggestion


@dataclass(frozen=True)
class CommandSpec:
    """Everything declared about one command: the words it answers to, its help, and its argument reader."""

    name: str
    aliases: tuple[str, ...]
    usage: str
    summary_zh: str
    summary_en: str
    examples: tuple[str, ...]
    read: Callable[..., object] = field(repr=False, compare=False)

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


REGISTRY: list[CommandSpec] = []
_BY_WORD: dict[str, CommandSpec] = {}


def command(*, name: str, usage: str, summary_zh: str, summary_en: str, aliases: tuple[str, ...] = (),
            examples: tuple[str, ...] = ()):
    """Register a command class; it reads its arguments with `from_args(args, mentions, rubric)`."""

    def register(cls: type) -> type:
        spec = CommandSpec(name, aliases, usage, summary_zh, summary_en, examples, read=cls.from_args)
        for word in spec.words:
            if word.casefold() in _BY_WORD:
                raise ValueError(f"command word {word!r} is already used by {_BY_WORD[word.casefold()].name!r}")
            _BY_WORD[word.casefold()] = spec
        REGISTRY.append(spec)
        return cls

    return register


# ---- the commands ------------------------------------------------------------------------------------------

# Words for the fields that are not dimensions; every other key is a dimension word, checked by validation.
_FIELD_WORDS = {
    **dict.fromkeys(("conclusion", "结论"), "conclusion"),
    **dict.fromkeys(("comment", "content", "评语", "综合记录", "备注"), "content"),
    **dict.fromkeys(("name", "username", "面试官", "姓名"), "username"),
    **dict.fromkeys(("owner", "负责人"), "owner"),
}


@command(
    name="assess",
    aliases=("面评",),
    usage="/assess <assessment_id> [pass|fail|pending] [<dimension>=<value> ...] [comment=<text>] "
          "[name=<interviewer name>] [owner=@someone]",
    summary_zh="记录或修改面评：结论（通过/不通过/待定）、各维度、综合记录；只写 ID 则打开表单。"
               "未写的项保持不变；含空格的值请加引号。",
    summary_en="Record or change an assessment: conclusion (pass/fail/pending), dimensions, comment; "
               "the id alone opens the form. Fields left out stay as they are; quote values with spaces.",
    examples=(
        '/assess 6930815272790114324 pass coding=4 design=3 comment="思路清晰，代码整洁"',
        "/面评 6930815272790114324 通过 编码=4 亮点=算法，架构",
        "/assess 6930815272790114324 coding=5",
        "/assess 6930815272790114324",
    ),
)
@dataclass(frozen=True)
class Assess:
    """Write the given fields of an assessment (none given: open the form)."""

    assessment_id: str
    fields: RawFields
    owner: str | None = None  # open_id of the person the assessment is handed over to

    @classmethod
    def from_args(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Assess:
        tokens = _tokens(args)
        if not tokens or tokens[0].key is not None:
            raise _missing_id()
        assessment_id = _assessment_id(tokens[0])
        given: dict[str, str] = {}  # what each field or dimension was called, to catch it given twice
        values: dict[str, str] = {}
        dimensions: list[tuple[str, str]] = []
        for token in tokens[1:]:
            if token.key is None:
                if "conclusion" in given and not parse_conclusion(_numeral(token.value)):
                    raise _not_understood(token, rubric, expecting_conclusion=False)
                target, name = "conclusion", token.value
            else:
                name = token.key
                target = _FIELD_WORDS.get(name.casefold()) or _dimension_identity(name, rubric)
            if target in given:
                if target == "conclusion":
                    raise _Wrong(f"结论给了两次：“{values['conclusion']}”和“{token.value}”。",
                                 f"The conclusion is given twice: '{values['conclusion']}' and '{token.value}'.")
                raise _twice(given[target], name)
            given[target] = name
            if target == "conclusion":
                values[target] = _conclusion(token, rubric)
            elif target == "owner":
                values[target] = _owner(token, mentions)
            elif target in ("content", "username"):
                values[target] = token.value
            else:
                dimensions.append((name, _numeral(token.value)))
        fields = RawFields(conclusion=values.get("conclusion"), dimensions=tuple(dimensions),
                           content=values.get("content"), username=values.get("username"))
        return cls(assessment_id=assessment_id, fields=fields, owner=values.get("owner"))


@command(
    name="help",
    aliases=("帮助", "?"),
    usage="/help",
    summary_zh="显示各命令的用法。",
    summary_en="Show how to use each command.",
    examples=("/help", "帮助"),
)
@dataclass(frozen=True)
class Help:
    """Show the commands."""

    @classmethod
    def from_args(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Help:
        return cls()  # anything after the word is ignored: "? how do I…" still deserves the help


@command(
    name="history",
    aliases=("历史", "记录"),
    usage="/history <assessment_id>",
    summary_zh="查看机器人为这条面评写入过的内容。",
    summary_en="Show what the bot has written for an assessment.",
    examples=("/history 6930815272790114324",),
)
@dataclass(frozen=True)
class History:
    """Show what was written for one assessment."""

    assessment_id: str

    @classmethod
    def from_args(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> History:
        tokens = _tokens(args)
        if not tokens or tokens[0].key is not None:
            raise _missing_id()
        if len(tokens) > 1:
            extra = tokens[1]
            raise _Wrong(f"多余的内容“{_snippet(extra.text)}”。", f"Unexpected '{_snippet(extra.text)}'.")
        return cls(assessment_id=_assessment_id(tokens[0]))


Command = Assess | Help | History


# ---- the public entry points -------------------------------------------------------------------------------

def parse(text: str, mentions: Mapping[str, str] | None = None, rubric: Rubric | None = None) -> Command | None:
    """The command a message holds; None when it does not start with a command word.

    A command word may be written with or without a leading slash, in any case. `mentions` maps the
    `@_user_N` placeholders of the text to open_ids; `rubric`, when given, sharpens the hints.
    Raises CommandProblem when the word is a command (or a slashed near-miss of one) but the rest is wrong.
    """
    text = text.strip()
    head = text.split(maxsplit=1)[0] if text else ""
    args = text[len(head):]
    word = head.translate(_COMMAND_CHARS)
    slashed = word.startswith("/")
    word = word.removeprefix("/")
    spec = _BY_WORD.get(word.casefold())
    if spec is None:
        hint = suggest(word, list(_BY_WORD)) if slashed and word else None
        if hint is None:
            return None
        near = _BY_WORD[hint.casefold()]
        raise CommandProblem(f"没有“{head}”这个命令，是否想输入 /{hint}？",
                             f"There is no command '{head}'. Did you mean /{hint}?",
                             usage=near.usage, suggestion=f"/{hint}", command=near.name)
    try:
        return spec.read(args, mentions or {}, rubric)
    except _Wrong as wrong:
        raise CommandProblem(wrong.zh, wrong.en, usage=spec.usage, suggestion=wrong.suggestion,
                             command=spec.name) from None


def help_entries() -> list[CommandSpec]:
    """One entry per command, in declaration order: name, aliases, usage, summaries, examples."""
    return list(REGISTRY)


def usage(name: str) -> str:
    """How a command (named by its name or an alias) is written."""
    return _BY_WORD[name.removeprefix("/").casefold()].usage


# ---- reading the arguments ---------------------------------------------------------------------------------

_COMMAND_CHARS = str.maketrans({"／": "/", "？": "?"})
_SEPARATORS = "=＝:："
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}
_FULLWIDTH_NUMERALS = str.maketrans("０１２３４５６７８９＋－．", "0123456789+-.")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_ASSESSMENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_MENTION = re.compile(r"@_user_[0-9]+")
_COMMAS = ",，"
# A comma followed by `name=` ends an unquoted value: Chinese input methods put "，" between fields.
_NEXT_FIELD = re.compile(r"[,，](?=[^\s=＝:：,，\"'“‘「『]+[=＝:：])")


@dataclass(frozen=True)
class _Token:
    key: str | None  # None for a bare word
    value: str
    text: str  # as typed, for messages


def _tokens(args: str) -> list[_Token]:
    """Split arguments into bare words and key=value pairs; quotes keep spaces and `=` inside a value."""
    tokens: list[_Token] = []
    i, n = 0, len(args)
    while True:
        while i < n and (args[i].isspace() or args[i] in _COMMAS):
            i += 1
        if i == n:
            return tokens
        start, key = i, None
        opens_quote = args[i] in _QUOTES
        while (not opens_quote and i < n and not args[i].isspace() and args[i] not in _SEPARATORS
               and args[i] not in _COMMAS):
            i += 1
        if i < n and args[i] in _SEPARATORS:
            key, i = args[start:i], i + 1
            if not key:
                typed = _snippet(_word_at(args, start))
                raise _Wrong(f"“{typed}”在“{args[start]}”前面缺少名称。",
                             f"'{typed}' has no name before '{args[start]}'.")
            if i == n or args[i].isspace():
                raise _Wrong(f"“{args[start:i]}”缺少值。", f"'{args[start:i]}' has no value.")
        if i < n and args[i] in _QUOTES and (key is not None or i == start):
            value, i = _quoted(args, i, start)
            if i < n and not args[i].isspace() and args[i] not in _COMMAS:
                raise _after_quote(args[start:i], _word_at(args, i))
        elif key is not None:
            value = _word_at(args, i)
            if cut := _NEXT_FIELD.search(value):
                value = value[:cut.start()]
            i += len(value)
        else:
            value = args[start:i]
        tokens.append(_Token(key=key, value=value, text=args[start:i]))


def _quoted(args: str, opening: int, start: int) -> tuple[str, int]:
    """The text inside the quote opened at `opening`, and the index after its closing quote."""
    closing = args.find(_QUOTES[args[opening]], opening + 1)
    if closing < 0:
        typed = _snippet(args[start:])
        raise _Wrong(f"引号 {args[opening]} 没有结束：“{typed}”。",
                     f"The quote {args[opening]} is never closed: '{typed}'.")
    return args[opening + 1:closing], closing + 1


def _word_at(args: str, i: int) -> str:
    end = i
    while end < len(args) and not args[end].isspace():
        end += 1
    return args[i:end]


def _snippet(text: str, limit: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _numeral(value: str) -> str:
    """Full-width digits made ASCII when the value is a number; any other text stays as typed."""
    normal = value.translate(_FULLWIDTH_NUMERALS)
    return normal if _NUMBER.fullmatch(normal) else value


def _assessment_id(token: _Token) -> str:
    if parse_conclusion(token.value) and not token.value.strip().isdigit():
        raise _missing_id()
    assessment_id = token.value.translate(_FULLWIDTH_NUMERALS)
    if not _ASSESSMENT_ID.fullmatch(assessment_id):
        typed = _snippet(token.text)
        raise _Wrong(f"“{typed}”不是有效的面评 ID（应为数字、字母、_ 或 -）。",
                     f"'{typed}' is not an assessment id (use digits, letters, _ or -).")
    return assessment_id


def _conclusion(token: _Token, rubric: Rubric | None) -> str:
    word = _numeral(token.value)
    if parse_conclusion(word) is None:
        raise _not_understood(token, rubric, expecting_conclusion=True)
    return word


def _owner(token: _Token, mentions: Mapping[str, str]) -> str:
    open_id = mentions.get(token.value) if _MENTION.fullmatch(token.value) else None
    if not open_id:
        raise _Wrong(f"{token.key}= 后面需要 @ 一个人。", f"{token.key}= needs an @mention.")
    return open_id


def _dimension_identity(word: str, rubric: Rubric | None) -> str:
    dimension = rubric.find(word) if rubric else None
    return "dimension:" + (dimension.key if dimension else word.casefold())


def _missing_id() -> _Wrong:
    return _Wrong("缺少面评 ID（紧跟在命令后面）。", "The assessment id is missing (it comes right after the command).")


def _twice(first: str, second: str) -> _Wrong:
    if first.casefold() == second.casefold():
        return _Wrong(f"“{second}”给了两次。", f"'{second}' is given twice.")
    return _Wrong(f"“{first}”和“{second}”是同一项，只能给一次。",
                  f"'{first}' and '{second}' are the same field; give it once.")


def _not_understood(token: _Token, rubric: Rubric | None, *, expecting_conclusion: bool) -> _Wrong:
    """A value that is not a conclusion, or a bare word that is no field: say what it probably was."""
    word = _snippet(token.value)
    bare = token.key is None
    if bare and _MENTION.fullmatch(token.value):
        return _Wrong("单独的 @ 无法识别；要转交面评请写 owner=@某人。",
                      "An @mention on its own is not understood; to hand the assessment over, write owner=@someone.")
    if bare and rubric and rubric.find(token.value):
        return _Wrong(f"“{word}”缺少值，请写成 {word}=<值>。", f"'{word}' has no value; write {word}=<value>.",
                      suggestion=f"{token.value}=")
    if not expecting_conclusion:
        return _Wrong(f"无法识别“{word}”；各项请写成 名称=值。",
                      f"'{word}' is not understood; write fields as name=value.")
    if hint := suggest(token.value, list(CONCLUSION_WORDS)):
        return _Wrong(f"结论“{word}”无效。是否想输入 {hint}？",
                      f"'{word}' is not a conclusion. Did you mean {hint}?", suggestion=hint)
    if bare and rubric and (near := suggest(token.value, rubric.all_names)):
        return _Wrong(f"结论“{word}”无效。是否想输入 {near}=…？",
                      f"'{word}' is not a conclusion. Did you mean {near}=…?", suggestion=f"{near}=")
    return _Wrong(f"结论“{word}”无效。可用：通过 / 不通过 / 待定（或 pass / fail / pending）；其他项请写成 名称=值。",
                  f"'{word}' is not a conclusion. Use pass, fail or pending (通过, 不通过, 待定); "
                  "write other fields as name=value.")


def _after_quote(quoted: str, rest: str) -> _Wrong:
    typed = _snippet(quoted + rest)
    return _Wrong(
        f"“{typed}”中引号结束后紧跟着“{_snippet(rest)}”；请在引号后加空格，或用另一种引号（如「…」）括起含引号的内容。",
        f"'{_snippet(rest)}' follows the closing quote in '{typed}'; put a space after the quote, "
        "or wrap a value that holds quotes in other quotes such as 「…」.")
