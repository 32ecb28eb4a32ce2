"""One entered value, checked against its dimension, and a recorded value as cards show it.

Options are named by their label in either language (case and width ignored), a score picked by option by its label
or its score, a typed score as a whole number in range (full-width digits as Chinese input methods type them), text
within its limit; "" or "-" clears a text. Every refusal is a FieldError said in both languages, with the nearest
valid word where one helps.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict

from bot.rubric import Dimension, DimensionType, Value, fold

MAX_TEXT = 10_000  # characters kept for one free-text field; Feishu documents no limit, cards need one
CLEAR_WORDS = ("", "-")  # a text dimension or the comment given as one of these is cleared (`comment=""`, `comment=-`)


class FieldError(BaseModel):
    """One wrong value, said in both languages, with a suggestion where one helps."""

    model_config = ConfigDict(frozen=True)

    field: str  # "conclusion", "content", "username" or a dimension key (or the unknown word typed)
    zh: str
    en: str
    suggestion: str | None = None


class InvalidFields(Exception):
    """The entered values do not fit the rubric; nothing is written."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(e.en for e in errors))
        self.errors = errors


def suggest(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The nearest valid word for a mistyped one, if any is close."""
    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)  # the first spelling (a key before its title)
    hits = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[hits[0]] if hits else None


def clears(raw: str | tuple[str, ...] | None) -> bool:
    """An entered value that asks to clear the field: empty, or a lone `-`."""
    return raw is not None and (raw == () or (isinstance(raw, str) and raw.strip() in CLEAR_WORDS))


def check_value(dim: Dimension, raw: str | tuple[str, ...]) -> Value | None:
    """Turn one entered value into the dimension's type; "" clears a text dimension (see `CLEAR_WORDS`).

    Options are named by their label in either language; a score picked by option by its label or its score."""
    if dim.computed:
        zh, en = "、".join(("总分", "得分")), "the total"
        raise InvalidFields([FieldError(
            field=dim.key, zh=f"“{dim.title}”由评价表中的各项分数计算得出（如{zh}），不能直接填写",
            en=f"'{dim.label_en}' is computed from the form's scores ({en}); it cannot be given")])
    if clears(raw):
        if dim.type is DimensionType.TEXT:
            return ""
        kind_zh, kind_en = ("分数", "a score") if dim.type is DimensionType.SCORE else ("选项", "a choice")
        raise InvalidFields([FieldError(
            field=dim.key,
            zh=f"“{dim.title}”是{kind_zh}，飞书招聘接口无法清空{kind_zh}；原值保持不变，如需修改请给出新值",
            en=f"'{dim.label_en}' is {kind_en}; the Hire API cannot clear {kind_en}, so it keeps its value — "
               "give a new value to change it",
        )])
    if dim.type is DimensionType.MULTI:
        items = split_options(raw, dim.options + dim.options_en)
        if not items:
            return None
        picked = [_option(dim, i) for i in items]
        unknown = [i for i, o in zip(items, picked, strict=True) if o is None]
        if unknown:
            hint = suggest(unknown[0], dim.options + dim.options_en)
            raise InvalidFields([FieldError(
                field=dim.key,
                zh=f"“{dim.title}”没有选项 {'、'.join(unknown)}；可选：{'、'.join(dim.options)}",
                en=f"'{dim.label_en}' has no option {', '.join(unknown)}; choose from "
                   f"{', '.join(map(dim.option_en, dim.options))}",
                suggestion=hint,
            )])
        return tuple(dict.fromkeys(o for o in picked if o is not None))
    text = raw if isinstance(raw, str) else ",".join(raw)
    if dim.type is DimensionType.TEXT:
        if not text.strip():
            return None
        if len(text) > MAX_TEXT:
            raise InvalidFields([FieldError(
                field=dim.key, zh=f"“{dim.title}”过长（最多 {MAX_TEXT} 字）",
                en=f"'{dim.label_en}' is too long (at most {MAX_TEXT} characters)")])
        return text
    text = text.strip()
    if not text:
        return None
    if dim.type is DimensionType.SINGLE:
        chosen = _option(dim, text)
        if chosen is not None:
            return chosen
        hint = suggest(text, dim.options + dim.options_en)
        raise InvalidFields([FieldError(
            field=dim.key,
            zh=f"“{dim.title}”没有选项“{text}”；可选：{'、'.join(dim.options)}",
            en=f"'{dim.label_en}' has no option '{text}'; choose one of {', '.join(map(dim.option_en, dim.options))}",
            suggestion=hint,
        )])
    if dim.by_option:
        chosen = _option(dim, text)
        number = _integer(text)
        if chosen is not None:
            return dim.scores[dim.options.index(chosen)]
        if number is not None and number in dim.scores:
            return number
        listed = [(o, dim.option_en(o), s) for o, s in zip(dim.options, dim.scores, strict=True)]
        raise InvalidFields([FieldError(
            field=dim.key,
            zh=f"“{dim.title}”请选择：{'、'.join(f'{o}（{s}）' for o, _, s in listed)}，收到“{text}”",
            en=f"'{dim.label_en}' takes one of {', '.join(f'{e} ({s})' for _, e, s in listed)}, not '{text}'",
            suggestion=suggest(text, dim.options + dim.options_en),
        )])
    # score
    number = _integer(text)
    if number is None or not (dim.min <= number <= dim.max):  # type: ignore[operator]
        raise InvalidFields([FieldError(
            field=dim.key,
            zh=f"“{dim.title}”的分数应为 {dim.min} 到 {dim.max} 之间的整数，收到“{text}”",
            en=f"'{dim.label_en}' takes a whole number from {dim.min} to {dim.max}, not '{text}'",
        )])
    return number


def _option(dim: Dimension, word: str) -> str | None:
    """The option (its label as sent) a word names: its label in either language, case and width ignored."""
    if word in dim.options:
        return word
    folded = fold(word)
    for index, label in enumerate(dim.options):
        if fold(label) == folded or (dim.options_en and fold(dim.options_en[index]) == folded):
            return label
    return None


def _integer(text: str) -> int | None:
    normal = text.translate(FULLWIDTH_NUMERALS).strip()
    sign = -1 if normal.startswith("-") else 1
    digits = normal.lstrip("+-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    return sign * int(digits)


FULLWIDTH_NUMERALS = str.maketrans("０１２３４５６７８９＋－．", "0123456789+-.")  # as Chinese input methods type


def split_options(raw: str | tuple[str, ...] | None, options: tuple[str, ...] = ()) -> list[str]:
    """The options of a multi value: a list from a form, or text separated by `,` `，` or `、` as typed; an option
    whose own label holds one of those (a form's "沟通、协作") is kept whole."""
    if raw is None:
        return []
    if not isinstance(raw, str):
        return [item.strip() for item in raw if item.strip()]
    whole = sorted((o for o in options if any(c in o for c in _SEPARATORS)), key=len, reverse=True)
    kept: list[str] = []
    for label in whole:
        if label in raw:
            raw = raw.replace(label, f"\0{len(kept)}\0")
            kept.append(label)
    pieces = [piece.strip() for piece in raw.replace("，", ",").replace("、", ",").split(",") if piece.strip()]
    return [_restored(piece, kept) for piece in pieces]


_SEPARATORS = (",", "，", "、")


def _restored(piece: str, kept: list[str]) -> str:
    for index, label in enumerate(kept):
        piece = piece.replace(f"\0{index}\0", label)
    return piece


def shown(dim: Dimension, value: Value) -> tuple[str, str]:
    """A recorded value as cards show it (zh, en): options by their labels, a score picked by option with its
    label, a typed score out of its maximum."""
    if isinstance(value, tuple | list):
        return "、".join(map(str, value)), ", ".join(dim.option_en(str(v)) for v in value)
    if dim.type is DimensionType.SCORE and isinstance(value, int):
        label = dim.score_label(value) if dim.by_option else None
        if label is not None:
            return f"{label}（{value}）", f"{dim.option_en(label)} ({value})"
        return f"{value} / {dim.max}", f"{value} / {dim.max}"
    if dim.type is DimensionType.SINGLE:
        return str(value), dim.option_en(str(value))
    return str(value), str(value)


def number(value: float) -> str:
    """A form's total as people write it: 17, 3.5, 3.67."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
