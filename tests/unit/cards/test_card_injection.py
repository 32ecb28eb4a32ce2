"""Typed text never becomes markup: hostile strings in every field of every card stay plain, valid and small."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.assessment import Assessment, Conclusion, RawFields
from bot.rubric import parse
from bot.sandbox.cardcheck import problems
from bot.values import FieldError
from cards.confirmation import confirmation_card, saving_card
from cards.elements import toast
from cards.errors import denied_card, invalid_card, problem_card, write_failed_card
from cards.form import form_card
from cards.help import help_card
from cards.history import HistoryEntry, history_card
from cards.notice import group_notice_card, text_card

AT = datetime(2024, 5, 1, 6, 30, tzinfo=UTC)
RUBRIC = parse({"dimensions": [
    {"key": "coding", "title": "编码能力", "title_en": "Coding", "type": "score", "min": 1, "max": 5, "required": True},
    {"key": "level", "title": "建议职级", "type": "single", "options": ["P5", "P6"]},
    {"key": "tags", "title": "亮点", "type": "multi", "options": ["算法", "架构"]},
    {"key": "notes", "title": "面试记录", "type": "text"},
]})

MARKUP = [
    "<at id=all></at>", '<at user_id="ou_x"></at>', "<at id=ou_3c14f3a59eaf2825dbe25359f15></at>",
    "<at email=a@b.c></at>", "<at ids=ou_1,ou_2></at>", "</at>", "<at id=all>", "＜at id=all＞",
    "[x](https://evil.example)", "[点我](http://evil.example/?q=1&r=2)", "[x]( javascript:alert(1) )",
    "[电话](tel://110)", "![img](img_v2_abc)", "<a href='https://evil.example'>x</a>", '<a href="javascript:x">',
    "<link url='https://evil.example' pc_url=''>x</link>", "<link icon='chat_outlined' url='http://e.x'>",
    "https://evil.example/path?q=1", "http://10.0.0.1/", "www.evil.example", "evil.example", "lark://msgcard/x",
    "**bold**", "__bold__", "*it*", "~~del~~", "# h", "###### h6", "> quote", "- item", "1. item", "```json\n{}\n```",
    "`code`", "---", "<hr>", "<br/>", "<font color=red>red</font>", "<font color='rgba(0,0,0,1)'>",
    "<text_tag color='red'>t</text_tag>", "<person id='ou_x' show_name=true></person>",
    "<local_datetime millisecond='0'></local_datetime>", "<number_tag url='https://e.x'>1</number_tag>",
    "<raw>x</raw>", "<audio file_key='x'></audio>", ":OK:", ":THUMBSUP:", "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>", "<b>b</b><i>i</i>", "| a | b |\n|---|---|\n| 1 | 2 |", "$urlVal", "${var}",
    "{{template}}", "{{.Name}}", "%s %d %(x)s", '"quoted"', "'single'", "\\", '\\"', "\\u0000", '"}], "tag": "x',
    '{"tag": "markdown", "content": "<at id=all></at>"}', "</div>", "<!-- c -->", "&lt;at id=all&gt;", "&amp;",
    "\x00", "NUL\x00inside", "\x07\x08\x1b[31mred\x1b[0m", "\r\n", "\x0b\x0c", "\x7f\x85\x9f", "\u202eevil",
    "\u2066iso\u2069", "\u202a\u202b\u202c\u202d", "\u200e\u200f\u061c", "\u200b\u2060\ufeff", "a\u2028b\u2029c",
    "👩\u200d💻", "🇨🇳🏳️‍🌈", "😀" * 20, "e\u0301\u0301\u0301\u0301", "Z\u0338\u0327\u031b\u0316\u034e" * 10,
    "\ud800", "x\udfffy", "\U000e0041tag", "日本語テキスト", "العربية", "עברית", "ﷺ" * 5, "\t\ttabs",
    "  leading and trailing  ", "", " ", "\n\n\n", "a" * 1600, "长" * 1600,
]


def corpus() -> list[str]:
    """At least 200 hostile strings: markup, control characters, odd Unicode, each alone and mixed."""
    strings: list[str] = []
    for s in MARKUP:
        strings += [s, f"前缀{s}后缀", f"{s} {s}\n{s}"]
    strings += ["".join(MARKUP), ("<at id=all></at>[x](https://evil.example)\x00\u202e" * 2000)[:50_000],
                "评" * 50_000, "\x00" * 50_000]
    return strings


HOSTILE = corpus()
MARKERS = ("<at", "](", "<a ", "<link", "http", "www.", "<font", "<person", "<text_tag")


def _state(s: str) -> Assessment:
    return Assessment(conclusion=Conclusion.PENDING,
                      dimensions={"coding": 3, "level": "P5", "tags": ("算法",), "notes": s}, content=s, username=s)


def _errors(s: str) -> list[FieldError]:
    return [FieldError(field="notes", zh=f"“{s}”不对", en=f"'{s}' is wrong", suggestion=s),
            FieldError(field=s, zh=f"没有名为“{s}”的评价维度", en=f"There is no dimension called '{s}'", suggestion=s)]


def _entered(s: str) -> RawFields:
    dimensions = (("coding", s), ("level", s), ("tags", (s, "算法")), ("notes", s), (s, s))
    return RawFields(conclusion=s, dimensions=dimensions, content=s, username=s)


# Every card that shows typed text, with `s` in every place typed text can go.
BUILDERS: dict[str, Callable[[str], dict]] = {
    "confirmation": lambda s: confirmation_card(s, _state(s), RUBRIC, by=s, at=AT, edit_value={"do": "edit"}),
    "saving": lambda s: saving_card(s, _state(s), RUBRIC, by=s, at=AT),
    "form": lambda s: form_card(s, RUBRIC, _entered(s), submit_value={"do": "submit"}, errors=_errors(s),
                                interviewer_hint=s),
    "problem": lambda s: problem_card(f"没看懂“{s}”", f"Could not read '{s}'", usage_zh=s, usage_en=s, suggestion=s),
    "invalid": lambda s: invalid_card(s, _errors(s), usage_zh=s, usage_en=s),
    "write_failed": lambda s: write_failed_card(s, code=1002002, msg=s, log_id=s, retryable=False,
                                                retry_value={"do": "edit"}),
    "denied": lambda s: denied_card(s, s),
    "history": lambda s: history_card(s, [HistoryEntry(at=AT, actor=s, action=s, result=s, changes=((s, s), (s, s)),
                                                       log_id=s)], owner=s),
    "help": lambda s: help_card([SimpleNamespace(name=s, aliases=(s,), usage=s, summary_zh=s, summary_en=s,
                                                 examples=(s,))], rubric=RUBRIC),
    "notice": lambda s: group_notice_card(s, s),
    "text": lambda s: text_card(s, s),
}


def strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def markdown(node: object) -> Iterator[str]:
    """Every text the client renders as markdown: markdown elements and lark_md text objects."""
    if isinstance(node, dict):
        if node.get("tag") in ("markdown", "lark_md"):
            yield node.get("content", "")
            yield from node.get("i18n_content", {}).values()
        for value in node.values():
            yield from markdown(value)
    elif isinstance(node, list):
        for value in node:
            yield from markdown(value)


def unsafe_characters(text: str) -> list[str]:
    """Control, bidi and invisible characters, and lone surrogates, that typed text must not bring in."""
    return [f"U+{ord(c):04X}" for c in text
            if (unicodedata.category(c) == "Cc" and c not in "\n\t")
            or c in "\u061c\u200b\u200e\u200f\u2028\u2029\u2060\ufeff"
            or "\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069" or "\ud800" <= c <= "\udfff"]


def test_the_corpus_is_big_and_hostile() -> None:
    """More than 200 strings, some of them 50 KB."""
    assert len(HOSTILE) >= 200
    assert max(map(len, HOSTILE)) == 50_000


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_typed_text_stays_plain_in_every_card(builder: str) -> None:
    """Each card round-trips through JSON, passes the checker, stays under 30 KB, and keeps markup out of markdown."""
    for s in HOSTILE:
        card = BUILDERS[builder](s)
        encoded = json.dumps(card, ensure_ascii=False).encode("utf-8")
        assert json.loads(encoded) == card
        assert problems(card) == [], (s[:80], problems(card))
        assert len(encoded) <= 30_000
        for rendered in markdown(card):
            assert not any(marker in rendered for marker in MARKERS), (s[:80], rendered)
            assert len(s.strip()) < 3 or s.strip() not in rendered, (s[:80], rendered)
        assert [u for text in strings(card) for u in unsafe_characters(text)] == [], s[:80]


def test_toasts_carry_no_control_characters() -> None:
    """Toast text is cleaned like card text."""
    for s in HOSTILE:
        note = toast("error", s, s)
        assert json.loads(json.dumps(note, ensure_ascii=False).encode("utf-8")) == note
        assert [u for text in strings(note) for u in unsafe_characters(text)] == []
        assert len(note["content"]) <= 300


def test_markdown_is_only_what_the_bot_wrote() -> None:
    """Across all cards, markdown holds a small fixed set of texts, the same whatever was typed."""
    seen: dict[str, set[str]] = {}
    for s in (HOSTILE[0], HOSTILE[-3]):
        for name, build in BUILDERS.items():
            seen.setdefault(name, set()).update(markdown(build(s)))
    assert seen == {
        "confirmation": {"**结论：待定**", "**Conclusion: Pending**"},
        "saving": {"**结论：待定**", "**Conclusion: Pending**"},
        "form": set(), "problem": set(), "invalid": set(), "write_failed": set(), "denied": set(),
        "history": set(), "notice": set(), "text": set(),
        "help": {"**结论**", "**Conclusion**", "**评价维度**", "**Dimensions**"},
    }

