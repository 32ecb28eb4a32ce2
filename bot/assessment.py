"""The domain: conclusions, what an interviewer entered and its validation as a whole (one value's check:
bot/values.py; the body Feishu takes and gives: bot/hire_body.py)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from pydantic import BaseModel, ConfigDict

from bot.rubric import DimensionType, Rubric, Value
from bot.values import MAX_TEXT, FieldError, InvalidFields, check_value, clears, suggest

__all__ = ["Value"]


class Conclusion(IntEnum):
    """The interview's result, as the Hire API numbers it."""

    FAIL = 1
    PASS = 2
    PENDING = 3

    @property
    def zh(self) -> str:
        return {1: "不通过", 2: "通过", 3: "待定"}[self.value]

    @property
    def en(self) -> str:
        return {1: "Fail", 2: "Pass", 3: "Pending"}[self.value]


CONCLUSION_WORDS: dict[str, Conclusion] = {
    "pass": Conclusion.PASS, "通过": Conclusion.PASS, "2": Conclusion.PASS,
    "fail": Conclusion.FAIL, "不通过": Conclusion.FAIL, "1": Conclusion.FAIL,
    "pending": Conclusion.PENDING, "待定": Conclusion.PENDING, "3": Conclusion.PENDING,
}


class RawFields(BaseModel):
    """What an interviewer entered, as text, before validation: the meeting point of typed and clicked input.

    `dimensions` maps the word used (a key or an alias) to the raw value; a multi value may arrive as a
    list (from a form) or as comma-separated text (typed).
    """

    model_config = ConfigDict(frozen=True)

    conclusion: str | None = None
    dimensions: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    content: str | None = None
    username: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.conclusion is None and not self.dimensions and self.content is None and self.username is None


class Submission(BaseModel):
    """Validated fields an interviewer gave; None (or absent from `dimensions`) means "not given".

    An empty text ("" as `content` or as a text dimension's value) means "clear it": the Hire API takes an
    empty text. Scores and choices cannot be cleared through the API, so validation refuses to try.
    """

    model_config = ConfigDict(frozen=True)

    conclusion: Conclusion | None = None
    dimensions: dict[str, Value] = {}
    content: str | None = None
    username: str | None = None

    def merged_into(self, base: Assessment) -> Assessment:
        """The assessment after this submission is applied on top of `base`."""
        dimensions = {**base.dimensions, **self.dimensions}
        return Assessment(
            conclusion=self.conclusion if self.conclusion is not None else base.conclusion,
            dimensions={key: value for key, value in dimensions.items() if value != ""},
            content=(self.content or None) if self.content is not None else base.content,
            username=self.username if self.username is not None else base.username,
        )

    def merged_with(self, later: Submission) -> Submission:
        """One submission carrying the fields of both, the later winning."""
        return Submission(
            conclusion=later.conclusion if later.conclusion is not None else self.conclusion,
            dimensions={**self.dimensions, **later.dimensions},
            content=later.content if later.content is not None else self.content,
            username=later.username if later.username is not None else self.username,
        )

    @property
    def field_names(self) -> list[str]:
        """Top-level fields given, in wire order."""
        names = []
        if self.username is not None:
            names.append("username")
        if self.conclusion is not None:
            names.append("conclusion")
        if self.dimensions:
            names.append("assessment_dimension_list")
        if self.content is not None:
            names.append("content")
        return names


class Assessment(BaseModel):
    """What the bot knows an assessment holds (its last successful write, accumulated)."""

    model_config = ConfigDict(frozen=True)

    conclusion: Conclusion | None = None
    dimensions: dict[str, Value] = {}
    content: str | None = None
    username: str | None = None


def parse_conclusion(word: str) -> Conclusion | None:
    """The conclusion a typed word means, or None."""
    return CONCLUSION_WORDS.get(word.strip().casefold())


def validate(raw: RawFields, rubric: Rubric, *, complete: bool = False, kept: frozenset[str] = frozenset(),
             known: Mapping[str, Value] | None = None) -> Submission:
    """Check entered values against the rubric; raise InvalidFields listing every problem.

    `complete` is for the form: every required dimension and the conclusion must be present, except the
    dimensions in `kept` (already recorded, and left empty in the form to keep them as they are). In the form
    an empty field clears only what was recorded (`kept`, with "content" for the comment): an empty field
    that showed nothing is simply not given.

    A form's conditions are evaluated on the answers `known` (what is recorded) with the entered ones on top: a
    dimension not asked is required of nobody; typed, a value for it is refused (saying when it is asked), and in
    the form it is left out, as Hire's own form hides the question.
    """
    errors: list[FieldError] = []
    conclusion = None
    if raw.conclusion is not None and raw.conclusion.strip():
        conclusion = parse_conclusion(raw.conclusion)
        if conclusion is None:
            hint = suggest(raw.conclusion, list(CONCLUSION_WORDS))
            errors.append(FieldError(
                field="conclusion",
                zh=f"结论“{raw.conclusion}”无效，可用：通过 / 不通过 / 待定（或 pass / fail / pending）",
                en=f"Conclusion '{raw.conclusion}' is not valid; use pass / fail / pending (通过 / 不通过 / 待定)",
                suggestion=hint,
            ))
    elif complete:
        errors.append(FieldError(field="conclusion", zh="请选择结论", en="Choose a conclusion"))

    values: dict[str, Value] = {}
    named: dict[str, str] = {}  # dimension key -> the word that named it first
    for word, raw_value in raw.dimensions:
        dim = rubric.find(word) or rubric.dimension(word)
        if dim is None:
            errors.append(unknown_dimension(word, rubric))
            continue
        if dim.key in named and not complete:
            first = named[dim.key]
            errors.append(FieldError(
                field=dim.key, zh=f"“{first}”和“{word}”是同一项，只能给一次",
                en=f"'{first}' and '{word}' are the same field; give it once"))
            continue
        named.setdefault(dim.key, word)
        if complete and clears(raw_value) and dim.key not in kept:
            continue
        try:
            value = check_value(dim, raw_value)
        except InvalidFields as exc:
            errors.extend(exc.errors)
            continue
        if value is not None:
            values[dim.key] = value
    answers = {**(known or {}), **{k: v for k, v in values.items() if v != ""}}
    asked = rubric.asked(answers)
    for key in [k for k in values if k not in asked]:
        dim = rubric.get(key)
        if complete:
            del values[key]  # hidden by its condition, as Hire's own form hides it: not sent
            continue
        zh, en = rubric.when(dim) or ("", "")
        errors.append(FieldError(field=key, zh=f"“{dim.title}”只在{zh}时填写",
                                 en=f"'{dim.label_en}' is only asked when {en}"))
        del values[key]
    if complete:
        for dim in rubric.dimensions:
            missing = dim.key not in values and dim.key not in kept
            if (dim.required and dim.key in asked and missing and not dim.computed
                    and not any(e.field == dim.key for e in errors)):
                errors.append(FieldError(field=dim.key, zh=f"“{dim.title}”为必填项",
                                         en=f"'{dim.label_en}' is required"))

    notes_zh, notes_en = (rubric.notes.title, rubric.notes.title_en or rubric.notes.title) if rubric.notes else \
        ("综合记录", "Overall comment")
    content = None if complete and clears(raw.content) and "content" not in kept else \
        _text(raw.content, "content", notes_zh, notes_en, errors, clearable=True)
    if (complete and rubric.notes is not None and rubric.notes.required and not content and "content" not in kept
            and not any(e.field == "content" for e in errors)):
        errors.append(FieldError(field="content", zh=f"“{notes_zh}”为必填项", en=f"'{notes_en}' is required"))
    username = _text(raw.username, "username", "面试官姓名", "Interviewer name", errors, limit=100)
    if errors:
        raise InvalidFields(errors)
    return Submission(conclusion=conclusion, dimensions=values, content=content, username=username)


def unknown_dimension(word: str, rubric: Rubric) -> FieldError:
    """A word that names no dimension of this rubric, with the nearest name of it (another form's dimension is
    refused the same way: the interview's form is the only one it may write)."""
    hint = suggest(word, rubric.all_names)
    if rubric.hire:
        return FieldError(
            field=word,
            zh=f"评价表“{rubric.name}”中没有名为“{word}”的维度" + (f"，是否想输入 {hint}？" if hint else ""),
            en=f"The form '{rubric.label_en}' has no dimension called '{word}'" + (f"; did you mean {hint}?"
                                                                                    if hint else ""),
            suggestion=hint)
    return FieldError(
        field=word,
        zh=f"没有名为“{word}”的评价维度" + (f"，是否想输入 {hint}？" if hint else ""),
        en=f"There is no dimension called '{word}'" + (f"; did you mean {hint}?" if hint else ""),
        suggestion=hint,
    )


def _text(value: str | None, field: str, zh: str, en: str, errors: list[FieldError],
          limit: int = MAX_TEXT, clearable: bool = False) -> str | None:
    if value is None:
        return None
    if clears(value):
        return "" if clearable else None
    if len(value) > limit:
        errors.append(FieldError(field=field, zh=f"{zh}过长（最多 {limit} 字）",
                                 en=f"{en} is too long (at most {limit} characters)"))
        return None
    return value


def changes_nothing(change: Submission, state: Assessment) -> bool:
    """Whether applying `change` leaves `state` exactly as it is."""
    return change.merged_into(state) == state


def as_raw(state: Assessment | Submission) -> RawFields:
    """The entered-values form of a known state, to prefill a form."""
    dims = tuple((key, value if isinstance(value, tuple) else str(value)) for key, value in state.dimensions.items())
    return RawFields(conclusion=str(int(state.conclusion)) if state.conclusion is not None else None,
                     dimensions=dims, content=state.content, username=state.username)


def changes(before: Assessment, after: Assessment, rubric: Rubric) -> dict[str, list | str]:
    """What a write changed, for the audit: before/after for choices and scores, "changed" for free text."""
    out: dict[str, list | str] = {}
    if before.conclusion != after.conclusion:
        out["conclusion"] = [_plain(before.conclusion), _plain(after.conclusion)]
    for key in sorted(set(before.dimensions) | set(after.dimensions)):
        old, new = before.dimensions.get(key), after.dimensions.get(key)
        if old == new:
            continue
        dim = rubric.dimension(key) or rubric.find(key)
        free_text = dim is None or dim.type is DimensionType.TEXT
        out[key] = "changed" if free_text else [_plain(old), _plain(new)]
    for name in ("content", "username"):
        if getattr(before, name) != getattr(after, name):
            out[name] = "changed"
    return out


def _plain(value: object) -> object:
    if isinstance(value, Conclusion):
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    return value
