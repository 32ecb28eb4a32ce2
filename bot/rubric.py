"""The rubric an interviewer fills in: its dimensions, the sections they sit in, the conditions that ask them, and
how a scored form totals them. The local rubric is loaded from TOML and validated; a Hire feedback form becomes
the same model (bot/forms/hire.py), so everything that knows a rubric knows every form.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

LOCAL_NAME = ("本地评分表", "Local rubric")  # the local rubric's name when its file gives none


class DimensionType(StrEnum):
    """How a dimension is answered; the value is what people write in the rubric."""

    SCORE = "score"
    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"

    @property
    def assessment_type(self) -> int:
        """The Hire API's `assessment_type` for this kind of dimension."""
        return {"score": 1, "single": 2, "text": 3, "multi": 4}[self.value]


class Rule(BaseModel):
    """One condition on another dimension's answer (Hire's `related_dimension_settings[]`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dimension: str  # the key of the dimension looked at
    operator: int  # 1 equals, 2 not equal, 3 contains any, 4 contains none, 5 empty, 6 not empty
    options: tuple[str, ...] = ()  # the option labels compared with


class Condition(BaseModel):
    """When a dimension is asked: all of its rules hold (or any, with `any`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    any: bool = False
    rules: tuple[Rule, ...]


class Section(BaseModel):
    """A group of dimensions shown under one heading (a module of a Hire form)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    title_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    weight: float | None = None


class Slot(BaseModel):
    """How a form names one of the assessment's own fields (its conclusion, its overall notes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    title_en: str | None = None
    required: bool = False


class Dimension(BaseModel):
    """One question of the rubric (`[[dimensions]]` in rubric.toml, or a dimension of a Hire form)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    type: DimensionType
    title_en: str | None = None
    min: int | None = None
    max: int | None = None
    options: tuple[str, ...] = ()  # labels, as sent to Feishu (single, multi) and shown in Chinese
    options_en: tuple[str, ...] = ()  # the same options in English, when the form has them
    scores: tuple[int, ...] = ()  # a score picked by option: each option's score (what is sent)
    description: str | None = None
    description_en: str | None = None
    aliases: tuple[str, ...] = ()
    required: bool = False
    keyed: bool = True  # the key is a word people type (the local rubric's); a form's dimensions go by title
    section: str | None = None
    condition: Condition | None = None
    weight: float | None = None
    computed: bool = False  # the form's score: the bot computes it from the others; nobody types it

    @field_validator("key")
    @classmethod
    def _key_is_a_word(cls, key: str) -> str:
        if not key or not all(c.isalnum() or c == "_" for c in key) or not key[0].isalpha():
            raise ValueError("key must start with a letter and use only letters, digits and _")
        return key

    @model_validator(mode="after")
    def _fits_its_type(self) -> Dimension:
        if self.type is DimensionType.SCORE:
            if self.min is None or self.max is None:
                raise ValueError("a score dimension needs min and max")
            if self.min > self.max:
                raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
            if self.options and len(self.scores) != len(self.options):
                raise ValueError("options are only for single and multi dimensions")
        elif self.min is not None or self.max is not None:
            raise ValueError("min and max are only for score dimensions")
        if self.scores and self.type is not DimensionType.SCORE:
            raise ValueError("scores are only for a score picked by option")
        if self.type in (DimensionType.SINGLE, DimensionType.MULTI) or self.scores:
            if not self.options:
                raise ValueError(f"a {self.type.value} dimension needs options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be unique")
            if any(not o.strip() for o in self.options):
                raise ValueError("options must not be empty")
        elif self.options:
            raise ValueError("options are only for single and multi dimensions")
        if self.options_en and len(self.options_en) != len(self.options):
            raise ValueError("options_en must name every option")
        return self

    @property
    def label_en(self) -> str:
        """The English label: `title_en`, or the key when none is given."""
        return self.title_en or (self.key if self.keyed else self.title)

    @property
    def description_shown_en(self) -> str | None:
        """The English description: `description_en`, or the Chinese text when none is given."""
        return self.description_en or self.description

    @property
    def words(self) -> tuple[str, ...]:
        """The words the rubric gives for typing: the key (the local rubric's) and the aliases."""
        return (*((self.key,) if self.keyed else ()), *self.aliases)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of this dimension in a command: key, aliases and the titles people see on cards."""
        titles = (self.title, *((self.title_en,) if self.title_en else ()))
        return tuple(dict.fromkeys(n for n in (*self.words, *titles) if fold(n)))

    @property
    def by_option(self) -> bool:
        """A score picked from labelled options (each with its score)."""
        return bool(self.scores)

    def option_en(self, label: str) -> str:
        """An option's English label (its Chinese one when the form has none)."""
        if label in self.options and self.options_en:
            return self.options_en[self.options.index(label)] or label
        return label

    def score_label(self, score: int) -> str | None:
        """The label of the first option worth `score` (a score picked by option)."""
        return next((o for o, s in zip(self.options, self.scores, strict=True) if s == score), None)


def fold(name: str) -> str:
    """A name as compared: full-width and half-width alike, case and surrounding spaces ignored."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


class RubricError(Exception):
    """The rubric file cannot be used; the message names the file and the entry."""


Value = int | str | tuple[str, ...]


class Rubric(BaseModel):
    """The ordered dimensions of one rubric version; order is the order of the list sent to Feishu and of the form.

    `id` names the version: Hire's form id (every edit in Hire makes a new one), or `local-<digest>` for the local
    rubric file as it was read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dimensions: tuple[Dimension, ...]
    id: str = ""
    version: int | None = None
    name: str = LOCAL_NAME[0]
    name_en: str | None = LOCAL_NAME[1]
    hire: bool = False  # a feedback form synced from Feishu Hire (else the local rubric file)
    sections: tuple[Section, ...] = ()
    conclusion: Slot | None = None  # how the form names the conclusion (Hire's system conclusion)
    notes: Slot | None = None  # how the form names the overall notes (Hire's system notes)
    scoring: Literal["total", "average", "weighted"] | None = None  # how a scored form adds its scores up
    unsupported: tuple[str, ...] = ()  # the form's questions an external assessment cannot hold (their titles)

    @cached_property
    def _vocabulary(self) -> dict[str, Dimension]:
        """Each folded name and the one dimension it names (a name two dimensions share names neither)."""
        found: dict[str, Dimension | None] = {}
        for dim in self.dimensions:
            for name in dim.names:
                folded = fold(name)
                found[folded] = dim if found.get(folded, dim) is dim else None
        return {name: dim for name, dim in found.items() if dim is not None}

    def find(self, name: str) -> Dimension | None:
        """The dimension a typed word names: key (the local rubric's), alias or title, as `fold` compares them."""
        return self._vocabulary.get(fold(name))

    def get(self, key: str) -> Dimension:
        """The dimension with this exact key."""
        for dim in self.dimensions:
            if dim.key == key:
                return dim
        raise KeyError(key)

    def dimension(self, key: str) -> Dimension | None:
        """The dimension with this exact key, or None."""
        return next((d for d in self.dimensions if d.key == key), None)

    def section_of(self, dim: Dimension) -> Section | None:
        return next((s for s in self.sections if s.key == dim.section), None)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name of every dimension (for suggestions)."""
        return tuple(n for d in self.dimensions for n in d.names)

    @property
    def label_en(self) -> str:
        return self.name_en or self.name

    # -- conditions --------------------------------------------------------------------------------------------

    def asked(self, values: Mapping[str, Value]) -> frozenset[str]:
        """The keys of the dimensions asked, given these answers: those without a condition, and those whose
        condition holds on the answers of dimensions that are asked themselves (so a chain of conditions works)."""
        answered = dict(values)
        while True:
            asked = frozenset(d.key for d in self.dimensions if d.condition is None or _holds(self, d, answered))
            kept = {k: v for k, v in answered.items() if k in asked or self.dimension(k) is None}
            if kept == answered:
                return asked
            answered = kept

    def prune(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """The answers without those to dimensions no longer asked (their condition stopped holding)."""
        asked = self.asked(values)
        return {k: v for k, v in values.items() if k in asked or self.dimension(k) is None}

    def when(self, dim: Dimension) -> tuple[str, str] | None:
        """When a dimension is asked, in words (zh, en); None when always."""
        if dim.condition is None:
            return None
        zh, en = [], []
        for rule in dim.condition.rules:
            other = self.dimension(rule.dimension)
            title, title_en = (other.title, other.label_en) if other else ("?", "?")
            listed = "、".join(rule.options)
            listed_en = " / ".join(other.option_en(o) if other else o for o in rule.options)
            said = {1: (f"“{title}”为 {listed}", f"'{title_en}' is {listed_en}"),
                    2: (f"“{title}”不为 {listed}", f"'{title_en}' is not {listed_en}"),
                    3: (f"“{title}”包含 {listed}", f"'{title_en}' includes {listed_en}"),
                    4: (f"“{title}”不包含 {listed}", f"'{title_en}' does not include {listed_en}"),
                    5: (f"“{title}”未填", f"'{title_en}' is empty"),
                    6: (f"“{title}”已填", f"'{title_en}' is answered")}.get(rule.operator)
            if said:
                zh.append(said[0])
                en.append(said[1])
        if not zh:
            return None
        joiner = ("或", " or ") if dim.condition.any else ("且", " and ")
        return joiner[0].join(zh), joiner[1].join(en)

    # -- scores ------------------------------------------------------------------------------------------------

    def total(self, values: Mapping[str, Value]) -> float | None:
        """What a scored or weighted form adds up to from the scores given (None: the form adds nothing up, or no
        score is given). Weighted: the average of the scores, each weighted by its dimension's and its section's
        weights."""
        if self.scoring is None:
            return None
        asked = self.asked(values)
        scored = [(d, values[d.key]) for d in self.dimensions
                  if d.type is DimensionType.SCORE and not d.computed and d.key in asked
                  and isinstance(values.get(d.key), int) and not isinstance(values.get(d.key), bool)]
        if not scored:
            return None
        if self.scoring == "total":
            return float(sum(int(v) for _, v in scored))
        if self.scoring == "average":
            return sum(int(v) for _, v in scored) / len(scored)
        weights = [_weight(d.weight) * _weight(s.weight if (s := self.section_of(d)) else None) for d, _ in scored]
        if not sum(weights):
            return sum(int(v) for _, v in scored) / len(scored)
        return sum(w * int(v) for w, (_, v) in zip(weights, scored, strict=True)) / sum(weights)

    @property
    def total_title(self) -> tuple[str, str]:
        """What the total is called: the form's own score question, else by how it is computed."""
        computed = next((d for d in self.dimensions if d.computed), None)
        if computed is not None:
            return computed.title, computed.label_en
        return {"total": ("总分", "Total"), "average": ("平均分", "Average"),
                "weighted": ("加权得分", "Weighted score")}.get(self.scoring or "", ("总分", "Total"))


def _weight(value: float | None) -> float:
    return 1.0 if value is None or value < 0 else value


def _holds(rubric: Rubric, dim: Dimension, values: Mapping[str, Value]) -> bool:
    assert dim.condition is not None
    results = [_rule(rubric, rule, values) for rule in dim.condition.rules]
    if not results:
        return True
    return any(results) if dim.condition.any else all(results)


def _rule(rubric: Rubric, rule: Rule, values: Mapping[str, Value]) -> bool:
    """Whether one rule holds; a rule this release does not understand never hides a question."""
    other = rubric.dimension(rule.dimension)
    value = values.get(rule.dimension)
    chosen = _chosen(other, value)
    answered = value is not None and value != "" and value != ()
    wanted = set(rule.options)
    if rule.operator == 1:
        if other is not None and other.type is DimensionType.MULTI:
            return chosen == wanted
        return bool(chosen) and chosen <= wanted
    if rule.operator == 2:
        if other is not None and other.type is DimensionType.MULTI:
            return chosen != wanted
        return not (chosen and chosen <= wanted)
    if rule.operator == 3:
        return bool(chosen & wanted)
    if rule.operator == 4:
        return not chosen & wanted
    if rule.operator == 5:
        return not answered
    if rule.operator == 6:
        return answered
    return True


def _chosen(dim: Dimension | None, value: Value | None) -> set[str]:
    """The option labels an answer picks."""
    if dim is None or value is None:
        return set()
    if isinstance(value, tuple):
        return set(value)
    if dim.by_option and isinstance(value, int):
        return {o for o, s in zip(dim.options, dim.scores, strict=True) if s == value}
    return {value} if isinstance(value, str) and value in dim.options else set()


def load(path: str | Path) -> Rubric:
    """Read and validate a rubric file; raise RubricError naming the file and the entry."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"{path}: rubric file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: cannot read the rubric ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, source=str(path))


def parse(data: dict, source: str = "rubric") -> Rubric:
    """Validate rubric data already read from TOML (its optional `name` and `name_en` name it like a form)."""
    entries = data.get("dimensions")
    if not isinstance(entries, list) or not entries:
        raise RubricError(f"{source}: needs at least one [[dimensions]] entry")
    unknown = sorted(set(data) - {"dimensions", "name", "name_en"})
    if unknown:
        raise RubricError(f"{source}: unknown key {unknown[0]!r} (only name, name_en and [[dimensions]])")
    dims = []
    for index, entry in enumerate(entries, start=1):
        label = f"dimension #{index}" + (f" ({entry.get('key')!r})" if isinstance(entry, dict) else "")
        if isinstance(entry, dict) and set(entry) & {"keyed", "section", "condition", "computed", "scores"}:
            raise RubricError(f"{source}: {label}: keyed, section, condition, computed and scores come from Hire's "
                              "forms only")
        try:
            dim = Dimension.model_validate(entry)
        except ValidationError as exc:
            raise RubricError(f"{source}: {label}: {_describe(exc)}") from None
        if dim.type is DimensionType.MULTI and any("," in o or "，" in o for o in dim.options):
            raise RubricError(f"{source}: {label}: multi options must not contain commas (they separate typed "
                              "values)")
        dims.append(dim)
    seen: dict[str, str] = {}
    for dim in dims:
        for name in dim.names:
            folded = fold(name)
            if seen.get(folded, dim.key) != dim.key:
                raise RubricError(f"{source}: name {name!r} of {dim.key!r} is already used by {seen[folded]!r}")
            seen[folded] = dim.key
    names = {"name": data.get("name") or LOCAL_NAME[0], "name_en": data.get("name_en") or LOCAL_NAME[1]}
    if not all(isinstance(v, str) for v in names.values()):
        raise RubricError(f"{source}: name and name_en must be text")
    try:
        rubric = Rubric(dimensions=tuple(dims), **names)
    except ValidationError as exc:
        raise RubricError(f"{source}: {_describe(exc)}") from None
    return rubric.model_copy(update={"id": local_id(rubric)})


def local_id(rubric: Rubric) -> str:
    """The local rubric's version id: a digest of what it says, so a changed file is a new version."""
    said = rubric.model_dump(mode="json", exclude={"id", "version"})
    return "local-" + hashlib.sha256(json.dumps(said, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
