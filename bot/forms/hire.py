"""A Feishu Hire feedback form (面试评价表) as the list endpoint returns it, and the rubric it becomes.

https://open.feishu.cn/document/hire-v1/recruitment-related-configuration/interview-settings/list-3

How each dimension type maps onto the external assessment, which holds titled dimensions of four kinds
(`assessment_type` 1 score, 2 single choice, 3 text, 4 multi choice) and a top-level conclusion and notes:

| Hire dimension type | becomes |
|---|---|
| 1 single choice | single (2), the option's label sent as `option` |
| 2 multi choice | multi (4), the labels as `options` |
| 3 text | text (3) |
| 5 job-level suggestion | text (3): the level list is not in the form, so the level is typed (no equivalent) |
| 6 score picked by option | score (1): the card shows the labels, the chosen option's `score_val` is sent |
| 7 score typed as a number | score (1), within `lower_limit_score`..`upper_limit_score` |
| 10 system conclusion | the top-level `conclusion` (fail / pass / pending) |
| 11 system score | no equivalent: the bot computes the form's total and sends it as a score (1) |
| 12 system notes | the top-level `content` |

Disabled dimensions are dropped; unknown types are listed as unsupported (shown on the form, never sent).
Weights and the score calculation feed the total the bot computes; conditions decide what is asked.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from bot.rubric import Condition, Dimension, DimensionType, Rubric, Rule, Section, Slot

_WIRE = ConfigDict(extra="ignore", frozen=True)
DEFAULT_LIMITS = (0, 100)  # a typed score's range when the form gives none (option scores are 0–100 too)
_ORDER_LAST = 1 << 30


class I18n(BaseModel):
    model_config = _WIRE
    zh_cn: str | None = None
    en_us: str | None = None


class OptionItem(BaseModel):
    model_config = _WIRE
    id: str | None = None
    name: I18n | None = None
    description: I18n | None = None
    score_val: int | None = None


class ScoreDimensionConfig(BaseModel):
    model_config = _WIRE
    score_dimension_type: int | None = None
    lower_limit_score: int | None = None
    upper_limit_score: int | None = None


class RelatedDimensionSetting(BaseModel):
    model_config = _WIRE
    dimension_id: str | None = None
    related_operator_type: int | None = None
    dimension_option_ids: list[str] | None = None


class RelatedDimensionConfig(BaseModel):
    model_config = _WIRE
    type: int | None = None
    related_dimension_settings: list[RelatedDimensionSetting] | None = None


class FormDimension(BaseModel):
    model_config = _WIRE
    id: str | None = None
    name: I18n | None = None
    description: I18n | None = None
    type: int | None = None
    enabled: bool | None = None
    sequence: int | None = None
    is_required: bool | None = None
    weight: float | None = None
    score_dimension_config: ScoreDimensionConfig | None = None
    option_items: list[OptionItem] | None = None
    display_not_evident: bool | None = None
    related_dimension_config: RelatedDimensionConfig | None = None


class FormModule(BaseModel):
    model_config = _WIRE
    id: str | None = None
    name: I18n | None = None
    description: I18n | None = None
    type: int | None = None
    sequence: int | None = None
    weight: float | None = None
    dimensions: list[FormDimension] | None = None


class ScoreCalculationConfig(BaseModel):
    model_config = _WIRE
    enabled: bool | None = None
    calculation_mode: int | None = None


class HireForm(BaseModel):
    """One feedback form version, as `data.items[]` of the list endpoint holds it."""

    model_config = _WIRE
    id: str
    version: int | None = None
    name: I18n | None = None
    type: int | None = None
    score_calculation_config: ScoreCalculationConfig | None = None
    modules: list[FormModule] | None = None

    @property
    def names(self) -> tuple[str, str | None]:
        """Its name in Chinese (or whatever it has) and in English."""
        zh, en = _text(self.name)
        return zh or en or self.id, en


def to_rubric(form: HireForm) -> Rubric:
    """The rubric a form version becomes (see the module's table)."""
    name, name_en = form.names
    keys = _Keys()
    sections: list[Section] = []
    plan: list[tuple[FormDimension, str, str | None, str]] = []  # (dimension, its key, its section, its title)
    conclusion = notes = None
    unsupported: list[str] = []
    modules = sorted(form.modules or [], key=lambda m: _order(m.sequence))
    for m_index, module in enumerate(modules, start=1):
        section = Section(key=f"s{m_index}", title=_title(module.name, f"模块 {m_index}"),
                          title_en=_text(module.name)[1], description=_text(module.description)[0],
                          description_en=_text(module.description)[1], weight=module.weight)
        used = False
        for d_index, dim in enumerate(sorted(module.dimensions or [], key=lambda d: _order(d.sequence)), start=1):
            if dim.enabled is False:
                continue
            title = _title(dim.name, f"维度 {m_index}.{d_index}")
            if dim.type == 10:
                if conclusion is None:
                    conclusion = Slot(title=title, title_en=_text(dim.name)[1], required=bool(dim.is_required))
                continue
            if dim.type == 12:
                if notes is None:
                    notes = Slot(title=title, title_en=_text(dim.name)[1], required=bool(dim.is_required))
                continue
            if dim.type == 11 and form_scoring(form) is None:
                unsupported.append(title)  # nothing to compute: the form adds no scores up
                continue
            if dim.type not in (1, 2, 3, 5, 6, 7, 11) or (dim.type in (1, 2) and not _labels(dim)):
                unsupported.append(title)
                continue
            plan.append((dim, keys.key(dim.id, m_index, d_index), section.key, title))
            used = True
        if used:
            sections.append(section)
    by_id = {dim.id: key for dim, key, _, _ in plan if dim.id}
    options = {dim.id: _option_labels(dim) for dim, _, _, _ in plan if dim.id}
    dimensions = [_dimension(dim, key, section, title, by_id, options) for dim, key, section, title in plan]
    return Rubric(dimensions=tuple(dimensions), id=form.id, version=form.version, name=name, name_en=name_en,
                  hire=True, sections=tuple(sections), conclusion=conclusion, notes=notes,
                  scoring=form_scoring(form), unsupported=tuple(unsupported))


def form_scoring(form: HireForm) -> str | None:
    """How the form adds its scores up: a scored form (2) by total or average when on, a weighted form (3)."""
    if form.type == 3:
        return "weighted"
    calc = form.score_calculation_config
    if form.type == 2 and calc is not None and calc.enabled:
        return "average" if calc.calculation_mode == 2 else "total"
    return None


def _dimension(dim: FormDimension, key: str, section: str | None, title: str, by_id: dict[str, str],
               options: dict[str, dict[str, str]]) -> Dimension:
    zh, en = _text(dim.name)
    described, described_en = _text(dim.description)
    common = {"key": key, "title": title, "title_en": en, "description": described,
              "description_en": described_en, "required": bool(dim.is_required), "keyed": False,
              "section": section, "weight": dim.weight,
              "condition": _condition(dim, by_id, options)}
    labels = _labels(dim)
    if dim.type in (1, 2):
        kind = DimensionType.SINGLE if dim.type == 1 else DimensionType.MULTI
        return Dimension(type=kind, options=tuple(labels), options_en=tuple(labels.values()), **common)
    if dim.type == 3:
        return Dimension(type=DimensionType.TEXT, **common)
    if dim.type == 5:
        hint = ("职级建议：外部面评没有职级选项，请以文字填写建议的职级（如 P6，或 P5–P6）。",
                "Suggested level: the external assessment has no level list; type the level (e.g. P6, or P5–P6).")
        common["description"] = "\n".join(p for p in (described, hint[0]) if p)
        common["description_en"] = "\n".join(p for p in (described_en or described, hint[1]) if p)
        return Dimension(type=DimensionType.TEXT, **common)
    if dim.type == 11:
        return Dimension(type=DimensionType.SCORE, min=0, max=_upper_bound(dim), computed=True,
                         **{**common, "required": False})
    scored = [(label, en_label, item.score_val) for (label, en_label), item in zip(labels.items(), _items(dim),
                                                                                   strict=True)]
    if dim.type == 6 and scored and all(s is not None for _, _, s in scored):
        values = [int(s) for _, _, s in scored if s is not None]
        return Dimension(type=DimensionType.SCORE, min=min(values), max=max(values),
                         options=tuple(label for label, _, _ in scored),
                         options_en=tuple(en_label for _, en_label, _ in scored), scores=tuple(values), **common)
    if dim.type == 6 and labels:  # options without scores: the choice is all there is to send
        return Dimension(type=DimensionType.SINGLE, options=tuple(labels), options_en=tuple(labels.values()),
                         **common)
    low, high = _limits(dim)
    return Dimension(type=DimensionType.SCORE, min=low, max=high, **common)


def _items(dim: FormDimension) -> list[OptionItem]:
    """The options with a label, duplicates of an earlier label left out (the label is what is sent)."""
    seen: set[str] = set()
    kept = []
    for index, item in enumerate(dim.option_items or [], start=1):
        label = _title(item.name, f"选项 {index}")
        if label not in seen:
            seen.add(label)
            kept.append(item)
    return kept


def _labels(dim: FormDimension) -> dict[str, str]:
    """Each option's label (as sent) and its English label."""
    found: dict[str, str] = {}
    for index, item in enumerate(dim.option_items or [], start=1):
        label = _title(item.name, f"选项 {index}")
        found.setdefault(label, _text(item.name)[1] or label)
    return found


def _option_labels(dim: FormDimension) -> dict[str, str]:
    """Option id -> label, for the conditions that name options by id."""
    return {item.id: _title(item.name, f"选项 {index}") for index, item in enumerate(dim.option_items or [], start=1)
            if item.id}


def _condition(dim: FormDimension, by_id: dict[str, str], options: dict[str, dict[str, str]]) -> Condition | None:
    config = dim.related_dimension_config
    if config is None or not config.related_dimension_settings:
        return None
    rules = []
    for setting in config.related_dimension_settings:
        if setting.dimension_id is None or setting.dimension_id == dim.id:
            continue  # a question cannot wait on its own answer
        other = by_id.get(setting.dimension_id)
        labels = options.get(setting.dimension_id, {})
        chosen = tuple(dict.fromkeys(labels[i] for i in setting.dimension_option_ids or () if i in labels))
        # a dimension the form does not ask (disabled, or of a type not carried) is never answered
        rules.append(Rule(dimension=other or "missing_" + _word(setting.dimension_id),
                          operator=setting.related_operator_type or 0, options=chosen))
    return Condition(any=config.type == 2, rules=tuple(rules)) if rules else None


def _limits(dim: FormDimension) -> tuple[int, int]:
    config = dim.score_dimension_config
    low = config.lower_limit_score if config and config.lower_limit_score is not None else DEFAULT_LIMITS[0]
    high = config.upper_limit_score if config and config.upper_limit_score is not None else DEFAULT_LIMITS[1]
    return (low, high) if low <= high else (high, low)


def _upper_bound(dim: FormDimension) -> int:
    config = dim.score_dimension_config
    return config.upper_limit_score if config and config.upper_limit_score and config.upper_limit_score > 0 else 100


def _text(value: I18n | None) -> tuple[str | None, str | None]:
    """(zh, en), each stripped and None when empty."""
    if value is None:
        return None, None
    return (value.zh_cn or "").strip() or None, (value.en_us or "").strip() or None


def _title(value: I18n | None, fallback: str) -> str:
    zh, en = _text(value)
    return zh or en or fallback


def _order(sequence: int | None) -> int:
    return _ORDER_LAST if sequence is None else sequence


def _word(text: str) -> str:
    return re.sub(r"\W", "_", text, flags=re.ASCII)[:60] or "x"


class _Keys:
    """A key per dimension, from Hire's id (unique within the form version), never repeated."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def key(self, dim_id: str | None, module: int, index: int) -> str:
        base = "d_" + (_word(dim_id) if dim_id else f"{module}_{index}")
        key, n = base, 2
        while key in self.used:
            key, n = f"{base}_{n}", n + 1
        self.used.add(key)
        return key
