"""The assessment rubric: which dimensions an interviewer scores, loaded from TOML and validated."""

from __future__ import annotations

import tomllib
import unicodedata
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator


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


class Dimension(BaseModel):
    """One question of the rubric (`[[dimensions]]` in rubric.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    title: str
    type: DimensionType
    title_en: str | None = None
    min: int | None = None
    max: int | None = None
    options: tuple[str, ...] = ()
    description: str | None = None
    description_en: str | None = None
    aliases: tuple[str, ...] = ()
    required: bool = False

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
            if self.options:
                raise ValueError("options are only for single and multi dimensions")
        elif self.min is not None or self.max is not None:
            raise ValueError("min and max are only for score dimensions")
        if self.type in (DimensionType.SINGLE, DimensionType.MULTI):
            if not self.options:
                raise ValueError(f"a {self.type.value} dimension needs options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be unique")
            if any(not o.strip() for o in self.options):
                raise ValueError("options must not be empty")
            if self.type is DimensionType.MULTI and any("," in o or "，" in o for o in self.options):
                raise ValueError("multi options must not contain commas (they separate typed values)")
        elif self.options:
            raise ValueError("options are only for single and multi dimensions")
        return self

    @property
    def label_en(self) -> str:
        """The English label: `title_en`, or the key when none is given."""
        return self.title_en or self.key

    @property
    def description_shown_en(self) -> str | None:
        """The English description: `description_en`, or the Chinese text when none is given."""
        return self.description_en or self.description

    @property
    def words(self) -> tuple[str, ...]:
        """The words the rubric gives for typing: the key and the aliases."""
        return (self.key, *self.aliases)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of this dimension in a command: key, aliases and the titles people see on cards."""
        titles = (self.title, *((self.title_en,) if self.title_en else ()))
        return tuple(dict.fromkeys(n for n in (*self.words, *titles) if fold(n)))


def fold(name: str) -> str:
    """A name as compared: full-width and half-width alike, case and surrounding spaces ignored."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


class RubricError(Exception):
    """The rubric file cannot be used; the message names the file and the entry."""


class Rubric(BaseModel):
    """The ordered dimensions; order is the order of the list sent to Feishu and of the form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dimensions: tuple[Dimension, ...]

    @model_validator(mode="after")
    def _names_are_unique(self) -> Rubric:
        seen: dict[str, str] = {}
        for dim in self.dimensions:
            for name in dim.names:
                folded = fold(name)
                if seen.get(folded, dim.key) != dim.key:
                    raise ValueError(f"name {name!r} of {dim.key!r} is already used by {seen[folded]!r}")
                seen[folded] = dim.key
        return self

    def find(self, name: str) -> Dimension | None:
        """The dimension a typed word names: key, alias or title, as `fold` compares them."""
        folded = fold(name)
        for dim in self.dimensions:
            if any(fold(n) == folded for n in dim.names):
                return dim
        return None

    def get(self, key: str) -> Dimension:
        """The dimension with this exact key."""
        for dim in self.dimensions:
            if dim.key == key:
                return dim
        raise KeyError(key)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name of every dimension (for suggestions)."""
        return tuple(n for d in self.dimensions for n in d.names)


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
    """Validate rubric data already read from TOML."""
    entries = data.get("dimensions")
    if not isinstance(entries, list) or not entries:
        raise RubricError(f"{source}: needs at least one [[dimensions]] entry")
    dims = []
    for index, entry in enumerate(entries, start=1):
        label = f"dimension #{index}" + (f" ({entry.get('key')!r})" if isinstance(entry, dict) else "")
        try:
            dims.append(Dimension.model_validate(entry))
        except ValidationError as exc:
            raise RubricError(f"{source}: {label}: {_describe(exc)}") from None
    try:
        return Rubric(dimensions=tuple(dims))
    except ValidationError as exc:
        raise RubricError(f"{source}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
