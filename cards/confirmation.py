"""The card that shows what an assessment now holds: after a write, and while one is being saved."""

from __future__ import annotations

from datetime import datetime

from bot.assessment import Assessment, Conclusion, Value
from bot.rubric import Dimension, DimensionType, Rubric
from bot.values import number, shown
from cards.elements import Element, button, card, fit, header, hr, md, note, text, user_text, when
from cards.reminder import Interview, about, subtitle

TEMPLATES = {Conclusion.PASS: "green", Conclusion.FAIL: "red", Conclusion.PENDING: "orange"}

# (free text, one-line values, titles) in characters, fullest first; later levels keep big rubrics under 30 KB
_LIMITS = ((1500, 200, 60), (600, 120, 40), (250, 60, 30), (100, 40, 20), (40, 20, 12))


def confirmation_card(reference: str, state: Assessment, rubric: Rubric, *, by: str, at: datetime,
                      edit_value: dict | None, interview: Interview | None = None, created: bool = False) -> dict:
    """What was written, coloured by the conclusion, with an Edit button when `edit_value` is given; for a
    scheduled interview it leads with the candidate, job, round and time. `created`: this write made the
    assessment in Feishu (its first submission), rather than updating one there."""
    zh, en = ("外部面评已创建", "Assessment created") if created else ("外部面评已更新", "Assessment updated")
    head = header(zh, en, TEMPLATES.get(state.conclusion, "grey"), subtitle(interview) if interview else reference)
    edit = button("修改", "Edit", edit_value) if edit_value is not None else None
    lead = about(interview) if interview else []
    return fit(lambda level: card(head, [*lead, *_body(reference, state, rubric, by, at, _LIMITS[level]),
                                         *([edit] if edit else [])]), len(_LIMITS))


def unchanged_card(reference: str, state: Assessment, rubric: Rubric, *, by: str, at: datetime,
                   edit_value: dict | None, interview: Interview | None = None) -> dict:
    """A submission that changes nothing: nothing was sent to Feishu; what the assessment holds, unchanged, with
    who submitted it and when (`by`, `at`: the saved submission's, not this one's)."""
    head = header("没有改动", "Nothing changed", "grey", subtitle(interview) if interview else reference)
    said = text("提交的内容与已保存的相同，没有发送给飞书。",
                "What you sent is what is already saved; nothing was sent to Feishu.")
    edit = button("修改", "Edit", edit_value) if edit_value is not None else None
    lead = about(interview) if interview else []
    return fit(lambda level: card(head, [*lead, said, *_body(reference, state, rubric, by, at, _LIMITS[level]),
                                         *([edit] if edit else [])]), len(_LIMITS))


def saved_card(reference: str, state: Assessment, *, edit_value: dict | None) -> dict:
    """The short confirmation sent when Feishu refused the full one: saved, the conclusion, view or edit it."""
    aid = user_text(reference, 80, one_line=True)
    if state.conclusion is None:
        line = md(f"面评 {aid} **已保存**。", f"Assessment {aid} **is saved**.")
    else:
        line = md(f"面评 {aid} **已保存**，结论：{state.conclusion.zh}。",
                  f"Assessment {aid} **is saved**; conclusion: {state.conclusion.en}.")
    elements = [line, note(f"完整的确认卡片无法显示；发送 /history {aid} 查看写入的内容。",
                           f"The full confirmation could not be shown; send /history {aid} to see what was written.")]
    if edit_value is not None:
        elements.append(button("查看或修改", "View or edit", edit_value))
    return card(header("面评已保存", "Assessment saved", TEMPLATES.get(state.conclusion, "green"), aid), elements)


def saved_text(reference: str, state: Assessment) -> str:
    """The same in one plain text message, the last resort when no card is accepted."""
    zh = f"面评 {reference} 已保存" + (f"，结论：{state.conclusion.zh}" if state.conclusion else "") + "。"
    en = f"Assessment {reference} is saved" + (f"; conclusion: {state.conclusion.en}" if state.conclusion
                                                  else "") + "."
    return f"{zh}\n{en}\n/history {reference}"


def saving_card(reference: str, state: Assessment, rubric: Rubric, *, by: str, at: datetime,
                interview: Interview | None = None) -> dict:
    """The same content while the write finishes in the background; no buttons."""
    head = header("正在保存…", "Saving…", "wathet", subtitle(interview) if interview else reference)
    lead = about(interview) if interview else []
    return fit(lambda level: card(head, [*lead, *_body(reference, state, rubric, by, at, _LIMITS[level])]),
               len(_LIMITS))


def _body(reference: str, state: Assessment, rubric: Rubric, by: str, at: datetime,
          limits: tuple[int, int, int]) -> list[Element]:
    long, short, title = limits
    if state.conclusion is None:
        elements: list[Element] = [md("**结论：未填写**", "**Conclusion: not given**")]
    else:
        elements = [md(f"**结论：{state.conclusion.zh}**", f"**Conclusion: {state.conclusion.en}**")]
    total = rubric.total(state.dimensions)
    for dim in rubric.dimensions:
        if dim.key in state.dimensions and not dim.computed:
            elements.extend(_dimension(dim, state.dimensions[dim.key], long, short, title))
    if total is not None:
        named, named_en = rubric.total_title
        elements.append(text(f"{_title(named, title)}：{number(total)}",
                             f"{_title(named_en, title)}: {number(total)}"))
    if state.content:
        notes = rubric.notes
        elements += [note(*((_title(notes.title, title), _title(notes.title_en or notes.title, title)) if notes
                            else ("综合记录", "Overall comment"))), text(user_text(state.content, long))]
    elements += [hr(), note(*_footer(reference, state.username, by, at, rubric, title))]
    return elements


def _title(said: str, limit: int) -> str:
    return user_text(said, limit, one_line=True)



def _dimension(dim: Dimension, value: Value, long: int, short: int, title: int) -> list[Element]:
    zh_title, en_title = user_text(dim.title, title, one_line=True), user_text(dim.label_en, title, one_line=True)
    if dim.type is DimensionType.TEXT:
        return [note(zh_title, en_title), text(user_text(str(value), long))]
    zh, en = shown(dim, value)
    zh, en = user_text(zh, short, one_line=True), user_text(en, short, one_line=True)
    return [text(f"{zh_title}：{zh}", f"{en_title}: {en}")]


def _footer(reference: str, username: str | None, by: str, at: datetime, rubric: Rubric,
            title: int) -> tuple[str, str]:
    aid, who, stamp = user_text(reference, 80, one_line=True), user_text(by, 100, one_line=True), when(at)
    zh, en = [], []
    if rubric.hire:
        zh.append(f"评价表：{user_text(rubric.name, title * 2, one_line=True)}")
        en.append(f"Feedback form: {user_text(rubric.label_en, title * 2, one_line=True)}")
    if username:
        name = user_text(username, 100, one_line=True)
        zh.append(f"面试官：{name}")
        en.append(f"Interviewer: {name}")
    zh += [f"提交人：{who} · {stamp}", f"面评 ID：{aid}"]
    en += [f"Submitted by {who} · {stamp}", f"Assessment ID: {aid}"]
    return "\n".join(zh), "\n".join(en)
