"""The assessment form, prefilled with what is known or was entered, and its way back to RawFields.

A Hire feedback form shows as it does in Hire: its name, its modules as sections, its required marks, each
option in the reader's language; a question asked only on a condition says when; the form's computed score and
the questions an external assessment cannot hold are named, never asked.

Form container: https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container
A submitted form arrives as `action.form_value` (strings, lists of strings for multi selects); `form_values_to_raw`
turns it into the same RawFields a typed command produces, so both go through one validation and write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bot.assessment import Conclusion, RawFields, parse_conclusion
from bot.rubric import Dimension, DimensionType, Rubric, Section, Slot
from bot.values import FieldError, InvalidFields, check_value, split_options
from cards.elements import Element, button, buttons, card, fit, header, note, plain, text, too_big_card, user_text
from cards.errors import error_line
from cards.reminder import Interview, about, small_print, subtitle

FORM_NAME = "assess_form"
MAX_SELECT = 11  # a score range wider than this is typed, not picked from a long list
MAX_INPUT = 1000  # the most an input can hold, per Feishu
MAX_USERNAME = 100
MAX_SCORE_TEXT = 40
MAX_LOOSE_ERRORS = 20
MAX_PLACEHOLDER = 100  # Feishu shows at most this many characters of a placeholder


class _Limits(NamedTuple):
    """How much of the long things one rendering shows; later levels keep a big rubric under 30 KB."""

    typed: int  # characters of typed text put back into an input
    title: int
    description: int
    option: int
    error: int  # characters of an error line; 0: no lines, the field's label turns red instead
    placeholders: bool
    score_selects: bool  # False: every score is typed, which is smaller than a list of options
    choice_selects: bool = True  # False: single and multi choices are typed, their options listed as a hint
    own_line: bool = False  # the description in its own grey line (two more elements) rather than under the label


# Feishu counts every text element towards its 200 (cards.limits): later levels first save elements (the
# description joins the label, placeholders go, scores are typed), then bytes.
_LIMITS = (
    _Limits(1000, 80, 300, 60, 400, placeholders=True, score_selects=True, own_line=True),
    _Limits(500, 50, 120, 40, 200, placeholders=True, score_selects=True),
    _Limits(200, 30, 60, 30, 120, placeholders=False, score_selects=True),
    _Limits(80, 20, 0, 20, 60, placeholders=False, score_selects=True),
    _Limits(0, 12, 0, 12, 40, placeholders=False, score_selects=True),
    _Limits(0, 12, 0, 12, 40, placeholders=False, score_selects=False),
    _Limits(0, 8, 0, 8, 0, placeholders=False, score_selects=False),
    _Limits(0, 8, 0, 8, 0, placeholders=False, score_selects=False, choice_selects=False),
)
TOO_BIG = ("评分表太大，无法在一张飞书卡片中显示表单。请用文字命令填写，例如：/assess {id} 维度=值 …",
           "The rubric is too large for a Feishu card to show the form. Type the values instead, "
           "e.g. /assess {id} dimension=value …")
_CONCLUSIONS = (Conclusion.FAIL, Conclusion.PASS, Conclusion.PENDING)
_HOW = {"total": ("各项分数之和", "the sum of the scores"), "average": ("各项分数的平均", "the scores' average"),
        "weighted": ("各项分数按权重的平均", "the scores' weighted average")}


def form_card(reference: str, rubric: Rubric, entered: RawFields, *, submit_value: dict,
              errors: Sequence[FieldError] = (), interviewer_hint: str | None = None,
              interview: Interview | None = None, notice: tuple[str, str] | None = None) -> dict:
    """The form, every control prefilled from `entered`, with a red line after each field in `errors`; for a
    scheduled interview it leads with the candidate, job, round and time, the id in small print; `notice`
    (zh, en) is said above the fields."""
    head = header("填写面评", "Fill in the assessment", "blue", subtitle(interview) if interview else reference)
    shown = user_text(reference, 80, one_line=True)
    lead = [*(about(interview) if interview else []),
            *([text(*notice, size="notation", color="orange")] if notice else [])]
    tail = [small_print(interview)] if interview else []
    return fit(lambda level: card(head, [*lead, *_Form(rubric, entered, errors, interviewer_hint, submit_value,
                                                       _LIMITS[level]).elements(), *tail]), len(_LIMITS),
               fallback=lambda: too_big_card(head, TOO_BIG[0].format(id=shown), TOO_BIG[1].format(id=shown)))


def form_values_to_raw(form_value: dict, rubric: Rubric) -> RawFields:
    """A submitted form as RawFields keyed by dimension key; unknown names are left out.

    An emptied text field or multi-select arrives empty ("" or []) and is kept as such: validation decides
    whether it clears what was recorded. An empty score or single choice is simply not given.
    """
    dimensions: list[tuple[str, str | tuple[str, ...]]] = []
    for dim in rubric.dimensions:
        if dim.computed:
            continue
        sent = form_value.get(_name(dim))
        value = _submitted(sent)
        if value is None and dim.type in (DimensionType.TEXT, DimensionType.MULTI) and _emptied(sent):
            value = () if dim.type is DimensionType.MULTI else ""
        if value is None:
            continue
        if dim.type is not DimensionType.MULTI and isinstance(value, tuple):
            value = ",".join(value)
        dimensions.append((dim.key, value))
    return RawFields(conclusion=_scalar(form_value.get("conclusion")), dimensions=tuple(dimensions),
                     content=_scalar(form_value.get("content")) if not _emptied(form_value.get("content")) else "",
                     username=_scalar(form_value.get("username")))


def _emptied(value: object) -> bool:
    """A field the form sent with nothing in it (as opposed to one it did not send)."""
    return value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _name(dim: Dimension) -> str:
    return f"dim_{dim.key}"


def _submitted(value: object) -> str | tuple[str, ...] | None:
    if isinstance(value, list | tuple):
        items = tuple(str(v) for v in value if v is not None and str(v).strip())
        return items or None
    if value is None or isinstance(value, dict):
        return None
    value = str(value)
    return value if value.strip() else None


def _scalar(value: object) -> str | None:
    got = _submitted(value)
    return ",".join(got) if isinstance(got, tuple) else got


class _Form:
    """One rendering of the form within given limits."""

    def __init__(self, rubric: Rubric, entered: RawFields, errors: Sequence[FieldError], hint: str | None,
                 submit_value: dict, limits: _Limits):
        self.rubric, self.submit_value, self.at = rubric, submit_value, limits
        self.entered: dict[str, str | tuple[str, ...]] = {}
        for word, value in entered.dimensions:
            dim = rubric.find(word) or rubric.dimension(word)
            if dim is not None:
                self.entered[dim.key] = value
        self.conclusion, self.content = entered.conclusion, entered.content
        self.username = entered.username if entered.username is not None else hint
        fields = {"conclusion", "content", "username", *(d.key for d in rubric.dimensions)}
        self.errors = {f: [e for e in errors if e.field == f] for f in fields}
        self.loose = [e for e in errors if e.field not in fields]  # e.g. a mistyped dimension name
        self.count = len(errors)

    def elements(self) -> list[Element]:
        rubric = self.rubric
        said = rubric.conclusion
        inside = [*self.label("conclusion", *_slot(said, "结论", "Conclusion"), required=True),
                  self.conclusion_select(), *self.error_lines("conclusion")]
        section = None
        for dim in rubric.dimensions:
            if dim.section != section and (heading := rubric.section_of(dim)) is not None:
                inside += self.heading(heading)
            section = dim.section
            inside += self.dimension(dim)
        notes = rubric.notes
        inside += [*self.label("content", *_slot(notes, "综合记录", "Overall comment"),
                               required=bool(notes and notes.required)),
                   self.input("content", self.content, self.at.typed, multiline=True, cap=MAX_INPUT),
                   *self.error_lines("content"),
                   *self.label("username", "面试官姓名", "Interviewer name"),
                   self.input("username", self.username, MAX_USERNAME, cap=MAX_USERNAME),
                   *self.error_lines("username"),
                   buttons(button("提交", "Submit", self.submit_value, "primary", name="submit",
                                  form_action_type="submit"),
                           button("重置", "Reset", None, name="reset", form_action_type="reset"))]
        return [*self.about(), *self.summary(), {"tag": "form", "name": FORM_NAME, "elements": inside},
                *self.left_out()]

    def about(self) -> list[Element]:
        """Which Hire form this is, and its version (the local rubric goes unnamed)."""
        rubric = self.rubric
        if not rubric.hire:
            return []
        name, name_en = (user_text(n, self.at.title * 2, one_line=True) for n in (rubric.name, rubric.label_en))
        version = f"（第 {rubric.version} 版）" if rubric.version else ""
        version_en = f" (version {rubric.version})" if rubric.version else ""
        return [note(f"评价表：{name}{version}", f"Feedback form: {name_en}{version_en}")]

    def left_out(self) -> list[Element]:
        """The form's questions an external assessment cannot hold: named, so nobody wonders where they went."""
        if not self.rubric.unsupported:
            return []
        names = user_text("、".join(self.rubric.unsupported), self.at.title * 3, one_line=True)
        names_en = user_text(", ".join(self.rubric.unsupported), self.at.title * 3, one_line=True)
        return [note(f"外部面评无法记录以下题目，未列出：{names}",
                     f"Not listed (an external assessment cannot hold them): {names_en}")]

    def heading(self, section: Section) -> list[Element]:
        """A module of the form, as a heading; its description when there is room."""
        at = self.at
        title = user_text(section.title, at.title, one_line=True)
        title_en = user_text(section.title_en or section.title, at.title, one_line=True)
        shown = [text(title, title_en, size="heading")]
        if section.description and at.description and at.own_line:
            shown.append(note(user_text(section.description, at.description),
                              user_text(section.description_en or section.description, at.description)))
        return shown

    def summary(self) -> list[Element]:
        if not self.count:
            return []
        n = self.count
        values = f"{n} value needs" if n == 1 else f"{n} values need"
        if not self.at.error:
            return [text(f"有 {n} 处需要修改（标红的项），尚未保存任何内容。",
                         f"{values} fixing (marked in red); nothing has been saved yet.", color="red")]
        lines = [text(f"有 {n} 处需要修改，尚未保存任何内容。", f"{values} fixing; nothing has been saved yet.",
                      color="red")]
        lines += [error_line(e, self.at.error) for e in self.loose[:MAX_LOOSE_ERRORS]]
        if len(self.loose) > MAX_LOOSE_ERRORS:
            more = len(self.loose) - MAX_LOOSE_ERRORS
            lines.append(text(f"……另有 {more} 处", f"…and {more} more", size="notation", color="red"))
        return lines

    def label(self, field: str, zh: str, en: str, *, required: bool = False,
              below: tuple[str, str] = ("", ""), when: tuple[str, str] | None = None) -> list[Element]:
        mark = " *" if required else ""
        if when is not None:  # asked (and required) only on a condition: said, and never enforced by the card
            limit = self.at.description or self.at.title * 2
            said, said_en = user_text(when[0], limit, one_line=True), user_text(when[1], limit, one_line=True)
            zh += f"{mark}（仅当{said}时{'必填' if required else '填写'}）"
            en += f"{mark} (only when {said_en}{'; required then' if required else ''})"
            mark = ""
        wrong = bool(self.errors[field]) and not self.at.error
        under_zh, under_en = ("\n" + b if b else "" for b in below)
        return [text(zh + mark + under_zh, en + mark + under_en, color="red" if wrong else None)]

    def error_lines(self, field: str) -> list[Element]:
        return [error_line(e, self.at.error) for e in self.errors[field]] if self.at.error else []

    def conclusion_select(self) -> Element:
        chosen = parse_conclusion(self.conclusion) if self.conclusion else None
        options = [{"text": plain(c.zh, c.en), "value": str(int(c))} for c in _CONCLUSIONS]
        initial = str(int(chosen)) if chosen is not None else None
        return self.select("conclusion", options, required=True, initial=initial,
                           placeholder=("请选择结论", "Choose a conclusion"))

    def dimension(self, dim: Dimension) -> list[Element]:
        at = self.at
        described = user_text(dim.description, at.description) if dim.description and at.description else ""
        described_en = user_text(dim.description_shown_en or "", at.description) if described else ""
        when = self.rubric.when(dim)
        shown = self.label(dim.key, user_text(dim.title, at.title, one_line=True),
                           user_text(dim.label_en, at.title, one_line=True), required=dim.required and not dim.computed,
                           below=("", "") if at.own_line else (described, described_en), when=when)
        if described and at.own_line:
            shown.append(note(described, described_en if dim.description_en else None))
        if dim.computed:
            how = _HOW.get(self.rubric.scoring or "", ("", ""))
            shown.append(note(f"提交后由机器人按评价表计算（{how[0]}），无需填写。",
                              f"Computed by the bot when you submit ({how[1]}); nothing to fill in."))
            return shown
        raw = self.entered.get(dim.key)
        name = _name(dim)
        low, high = dim.min or 0, dim.max or 0
        required = dim.required and when is None  # a conditional question is checked when submitted, not here
        if dim.by_option and (at.choice_selects or len(dim.options) <= 1):
            options = [{"text": plain(*_choice(dim, o, at.option, score)), "value": o}
                       for o, score in zip(dim.options, dim.scores, strict=True)]
            shown.append(self.select(name, options, required=required, initial=_valid(dim, raw)))
        elif dim.by_option:
            shown.append(self.typed_choice(dim, raw, required))
        elif dim.type is DimensionType.SCORE and at.score_selects and high - low + 1 <= MAX_SELECT:
            values = [str(n) for n in range(low, high + 1)]
            shown.append(self.select(name, [{"text": plain(v), "value": v} for v in values],
                                     required=required, initial=_valid(dim, raw)))
        elif dim.type in (DimensionType.SINGLE, DimensionType.MULTI) and not at.choice_selects:
            shown.append(self.typed_choice(dim, raw, required))
        elif dim.type is DimensionType.SINGLE:
            options = [{"text": plain(*_choice(dim, o, at.option)), "value": o} for o in dim.options]
            shown.append(self.select(name, options, required=required, initial=_valid(dim, raw)))
        elif dim.type is DimensionType.MULTI:
            multi: Element = {"tag": "multi_select_static", "name": name, "required": required, "width": "fill"}
            if at.placeholders:
                multi["placeholder"] = plain("请选择（可多选）", "Choose any")
            multi["options"] = [{"text": plain(*_choice(dim, o, at.option)), "value": o} for o in dim.options]
            multi["selected_values"] = [o for o in dict.fromkeys(split_options(raw, dim.options)) if o in dim.options]
            shown.append(multi)
        else:
            value = raw if isinstance(raw, str) or raw is None else ",".join(raw)
            if dim.type is DimensionType.TEXT:
                shown.append(self.input(name, value, at.typed, multiline=True, cap=MAX_INPUT, required=required))
            else:
                hint = (f"{dim.min} 到 {dim.max} 的整数", f"A whole number from {dim.min} to {dim.max}")
                # a typed score longer than this is not a score: cutting it loses nothing
                cut = user_text(value, MAX_SCORE_TEXT, one_line=True) if value else None
                shown.append(self.input(name, cut, MAX_SCORE_TEXT, cap=MAX_SCORE_TEXT, required=required,
                                        placeholder=hint))
        return [*shown, *self.error_lines(dim.key)]

    def typed_choice(self, dim: Dimension, raw: str | tuple[str, ...] | None, required: bool) -> Element:
        """A single or multi choice typed into an input (one element instead of one per option)."""
        labels = [o if not dim.by_option else f"{o}（{s}）" for o, s in zip(dim.options, dim.scores or dim.options,
                                                                         strict=True)]
        listed = user_text(" / ".join(labels), MAX_PLACEHOLDER, one_line=True)
        if raw is not None and dim.by_option:
            raw = _valid(dim, raw)
        value = None if raw is None else raw if isinstance(raw, str) else ",".join(raw)
        cut = user_text(value, MAX_INPUT, one_line=True) if value else None
        return self.input(_name(dim), cut, MAX_INPUT, cap=MAX_INPUT, required=required, placeholder=(listed, None))

    def select(self, name: str, options: list[dict], *, required: bool, initial: str | None,
               placeholder: tuple[str, str] = ("请选择", "Choose one")) -> Element:
        element: Element = {"tag": "select_static", "name": name, "required": required, "width": "fill"}
        if self.at.placeholders:
            element["placeholder"] = plain(*placeholder)
        element["options"] = options
        if initial is not None and any(o["value"] == initial for o in options):
            element["initial_option"] = initial
        return element

    def input(self, name: str, value: str | None, limit: int, *, cap: int, multiline: bool = False,
              required: bool = False, placeholder: tuple[str, str | None] | None = None) -> Element:
        element: Element = {"tag": "input", "name": name, "required": required, "width": "fill"}
        shown = user_text(value, len(value) + 1) if value else ""
        if len(shown) > min(limit, cap):
            # Putting back a cut text would save the cut text: show none, and say that empty keeps what is saved.
            element["required"] = False
            placeholder = (f"内容较长（{len(shown)} 字），未在此显示；留空则保持已保存的内容",
                           f"Too long to show ({len(shown)} characters); leave empty to keep what is saved")
            shown = ""
        if placeholder or self.at.placeholders:  # a range or a hidden text is always worth saying
            element["placeholder"] = plain(*(placeholder or ("请输入", "Type here")))
        element["max_length"] = cap
        if multiline:
            element["input_type"] = "multiline_text"
        if shown:
            element["default_value"] = shown
        return element


def _valid(dim: Dimension, raw: str | tuple[str, ...] | None) -> str | None:
    """The option a single or score value selects, or None when it fits none (its error line says why)."""
    if raw is None:
        return None
    try:
        value = check_value(dim, raw)
    except InvalidFields:
        return None
    if dim.by_option and isinstance(value, int):
        return dim.score_label(value)
    return None if value is None else str(value)


def _choice(dim: Dimension, option: str, limit: int, score: int | None = None) -> tuple[str, str | None]:
    """An option as a select shows it (zh, en): its label in each language (one label: the same in every
    language), a score picked by option with its score."""
    zh, en = user_text(option, limit, one_line=True), user_text(dim.option_en(option), limit, one_line=True)
    if score is not None:
        return f"{zh}（{score}）", f"{en} ({score})"
    return zh, en if dim.options_en else None


def _slot(slot: Slot | None, zh: str, en: str) -> tuple[str, str]:
    """A field's label as the form names it (its conclusion, its notes), else the bot's own words."""
    if slot is None:
        return zh, en
    return user_text(slot.title, 40, one_line=True), user_text(slot.title_en or slot.title, 40, one_line=True)
