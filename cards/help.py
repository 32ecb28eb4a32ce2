"""The /help card: every command with its usage and examples, and what the rubric lets people type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.assessment import CONCLUSION_WORDS, Conclusion
from bot.rubric import Dimension, DimensionType, Rubric
from cards.elements import Element, card, fit, header, hr, md, note, text, user_text

_LIMITS = ((60, 300), (40, 120), (24, 60), (16, 30))  # characters of (titles, option lists), fullest first


class CommandDoc(Protocol):
    """What /help shows of a command: its declaration (a command unit's class attributes)."""

    name: str
    aliases: tuple[str, ...]
    usage: str
    summary_zh: str
    summary_en: str
    examples: tuple[str, ...]


def help_card(entries: Sequence[CommandDoc], *, rubric: Rubric | None = None) -> dict:
    """Commands, then (with a rubric) the conclusion words and every dimension people can fill in."""
    head = header("面评助手用法", "How to use the assessment bot", "blue")

    def build(level: int) -> dict:
        elements: list[Element] = []
        for entry in entries:
            elements += _entry(entry)
        if rubric is not None:
            elements += [hr(), *_rubric(rubric, *_LIMITS[level])]
        return card(head, elements)

    return fit(build, len(_LIMITS))


def _entry(entry: CommandDoc) -> list[Element]:
    name = "/" + user_text(entry.name, 40, one_line=True).removeprefix("/")
    aliases = ["/" + user_text(a, 40, one_line=True).removeprefix("/") for a in entry.aliases]
    zh_name = name + (f"（也可用 {'、'.join(aliases)}）" if aliases else "")
    en_name = name + (f" (or {', '.join(aliases)})" if aliases else "")
    usage = user_text(entry.usage, 400)
    zh, en = [f"用法：{usage}"], [f"Usage: {usage}"]
    if entry.examples:
        examples = [user_text(e, 300) for e in entry.examples]
        zh += ["示例：", *examples]
        en += ["Examples:", *examples]
    summary = text(user_text(entry.summary_zh, 600), user_text(entry.summary_en, 600))
    # command names and usage hold `<id>`-like words that markdown would swallow: plain text throughout
    return [text(zh_name, en_name, size="heading"), summary, note("\n".join(zh), "\n".join(en))]


def _rubric(rubric: Rubric, title: int, options: int) -> list[Element]:
    words: dict[Conclusion, list[str]] = {}
    for word, conclusion in CONCLUSION_WORDS.items():
        words.setdefault(conclusion, []).append(word)
    order = (Conclusion.PASS, Conclusion.FAIL, Conclusion.PENDING)
    zh = "\n".join(f"{c.zh}：{' / '.join(words[c])}" for c in order)
    en = "\n".join(f"{c.en}: {' / '.join(words[c])}" for c in order)
    elements = [md("**结论**", "**Conclusion**"), text(zh, en),
                md("**评价维度**", "**Dimensions**"),
                note("写法：名称=值（名称也可用标题，如 编码能力=4）；标 * 的是表单中的必填项。",
                     "Write name=value (a title names it too, as in Coding=4); * marks what the form requires.")]
    return elements + [_dimension(d, title, options) for d in rubric.dimensions]


def _dimension(dim: Dimension, title: int, options: int) -> Element:
    names = user_text(" / ".join(dim.words), title, one_line=True)
    zh_title, en_title = user_text(dim.title, title, one_line=True), user_text(dim.label_en, title, one_line=True)
    if dim.type is DimensionType.SCORE:
        zh, en = f"{dim.min}–{dim.max} 分", f"score {dim.min}–{dim.max}"
    elif dim.type is DimensionType.TEXT:
        zh, en = "文字", "free text"
    else:
        listed = user_text(" / ".join(dim.options), options, one_line=True)
        zh, en = (f"单选：{listed}", f"one of: {listed}") if dim.type is DimensionType.SINGLE else \
            (f"多选，用逗号分隔：{listed}", f"any of, comma-separated: {listed}")
    mark = " *" if dim.required else ""
    return text(f"{names}{mark} — {zh_title}，{zh}", f"{names}{mark} — {en_title}, {en}")
