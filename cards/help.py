"""The /help card: every command with its usage and examples, and what the rubric (or one interview's form) lets
people type."""

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


def help_card(entries: Sequence[CommandDoc], *, rubric: Rubric | None = None,
              about: tuple[str, str] | None = None, forms: bool = False) -> dict:
    """Commands, then (with a rubric) the conclusion words and every dimension people can fill in; `about` names
    the interview whose form it is; `forms`: interviews may use Hire's forms, which /help <candidate> shows."""
    head = header("面评助手用法", "How to use the assessment bot", "blue")

    def build(level: int) -> dict:
        elements: list[Element] = []
        for entry in entries:
            elements += _entry(entry)
        if rubric is not None:
            title, options = _LIMITS[level]
            elements += [hr(), *_about(rubric, about, title), *_rubric(rubric, title, options)]
        if forms and about is None:
            elements.append(note("面试可能使用飞书招聘中的评价表：发送 /help <候选人或面试ID> 查看该面试的评价表。",
                                 "Interviews may use their own feedback form from Feishu Hire: send /help <candidate "
                                 "or interview id> to see an interview's form."))
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


def _about(rubric: Rubric, about: tuple[str, str] | None, title: int) -> list[Element]:
    """Whose form this is and what it is called."""
    if about is None and not rubric.hire:
        return []
    name, name_en = (user_text(n, title * 2, one_line=True) for n in (rubric.name, rubric.label_en))
    zh, en = f"评价表：{name}", f"Feedback form: {name_en}"
    if about is not None:
        zh, en = f"{user_text(about[0], title * 2, one_line=True)}\n{zh}", \
            f"{user_text(about[1], title * 2, one_line=True)}\n{en}"
    return [text(zh, en)]


def _rubric(rubric: Rubric, title: int, options: int) -> list[Element]:
    words: dict[Conclusion, list[str]] = {}
    for word, conclusion in CONCLUSION_WORDS.items():
        words.setdefault(conclusion, []).append(word)
    order = (Conclusion.PASS, Conclusion.FAIL, Conclusion.PENDING)
    zh = "\n".join(f"{c.zh}：{' / '.join(words[c])}" for c in order)
    en = "\n".join(f"{c.en}: {' / '.join(words[c])}" for c in order)
    elements = [md("**结论**", "**Conclusion**"), text(zh, en),
                md("**评价维度**", "**Dimensions**")]
    if rubric.hire:
        elements.append(note("写法：标题=值（中文或英文标题均可，选项写选项名）；标 * 的是表单中的必填项。",
                             "Write title=value (the Chinese or English title; options by their names); * marks "
                             "what the form requires."))
    else:
        elements.append(note("写法：名称=值（名称也可用标题，如 编码能力=4）；标 * 的是表单中的必填项。",
                             "Write name=value (a title names it too, as in Coding=4); * marks what the form "
                             "requires."))
    return elements + [_dimension(rubric, d, title, options) for d in rubric.dimensions]


def _dimension(rubric: Rubric, dim: Dimension, title: int, options: int) -> Element:
    zh_title, en_title = user_text(dim.title, title, one_line=True), user_text(dim.label_en, title, one_line=True)
    if dim.computed:
        zh, en = "由机器人按评价表计算，无需填写", "computed by the bot from the scores; not typed"
    elif dim.by_option:
        listed = user_text(" / ".join(f"{o}({s})" for o, s in zip(dim.options, dim.scores, strict=True)), options,
                           one_line=True)
        listed_en = user_text(" / ".join(f"{dim.option_en(o)}({s})" for o, s in zip(dim.options, dim.scores,
                                                                                     strict=True)), options,
                              one_line=True)
        zh, en = f"打分，选一项（写选项名或分数）：{listed}", f"a score, one of (its name or score): {listed_en}"
    elif dim.type is DimensionType.SCORE:
        zh, en = f"{dim.min}–{dim.max} 分", f"score {dim.min}–{dim.max}"
    elif dim.type is DimensionType.TEXT:
        zh, en = "文字", "free text"
    else:
        listed = user_text(" / ".join(dim.options), options, one_line=True)
        listed_en = user_text(" / ".join(map(dim.option_en, dim.options)), options, one_line=True)
        zh, en = (f"单选：{listed}", f"one of: {listed_en}") if dim.type is DimensionType.SINGLE else \
            (f"多选，用逗号分隔：{listed}", f"any of, comma-separated: {listed_en}")
    mark = " *" if dim.required and not dim.computed else ""
    when = rubric.when(dim)
    if when is not None:
        zh += f"（仅当{user_text(when[0], options, one_line=True)}时）"
        en += f" (only when {user_text(when[1], options, one_line=True)})"
    if not dim.keyed:
        return text(f"{zh_title}{mark} — {zh}", f"{en_title}{mark} — {en}")
    names = user_text(" / ".join(dim.words), title, one_line=True)
    return text(f"{names}{mark} — {zh_title}，{zh}", f"{names}{mark} — {en_title}, {en}")
