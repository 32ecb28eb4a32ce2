"""Which form an interview uses when its schedule row names none: `[[map]]` rules by job title and round, read from
ASSESSBOT_FORMS (config/forms.toml). The first rule that matches wins; no rule, the local rubric.

    [[map]]
    job = "销售*"          # a glob on the job title; case, width and surrounding spaces ignored; default "*"
    round = "*"            # a glob on the round; default "*"
    form = "销售岗位面评表"  # a form's name (Chinese or English) or id, or the local rubric's name
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.rubric import fold


class MappingError(Exception):
    """The mapping file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Rule:
    job: str
    round: str
    form: str
    line: int  # the rule's number in the file, to name it

    def matches(self, position: str | None, round_: str | None) -> bool:
        return _glob(self.job, position) and _glob(self.round, round_)


@dataclass(frozen=True)
class FormMap:
    """The rules, in the file's order."""

    rules: tuple[Rule, ...] = ()
    source: str = ""

    def pick(self, position: str | None, round_: str | None) -> str | None:
        """The form the first matching rule names, or None."""
        return next((rule.form for rule in self.rules if rule.matches(position, round_)), None)


def _glob(pattern: str, value: str | None) -> bool:
    return fnmatch.fnmatchcase(fold(value or ""), fold(pattern))


def load(path: str | Path) -> FormMap:
    """Read and check the mapping; a missing file is no mapping at all."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FormMap(source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the form mapping ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def parse(data: dict, source: str = "forms") -> FormMap:
    unknown = sorted(set(data) - {"map"})
    if unknown:
        raise MappingError(f"{source}: unknown key {unknown[0]!r} (only [[map]] entries)")
    entries = data.get("map", [])
    if not isinstance(entries, list):
        raise MappingError(f"{source}: map must be a list of [[map]] entries")
    rules = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: [[map]] #{number}"
        if not isinstance(entry, dict):
            raise MappingError(f"{where}: not a table")
        extra = sorted(set(entry) - {"job", "round", "form"})
        if extra:
            raise MappingError(f"{where}: unknown key {extra[0]!r} (job, round and form)")
        form, job, round_ = entry.get("form"), entry.get("job", "*"), entry.get("round", "*")
        if not isinstance(form, str) or not form.strip():
            raise MappingError(f"{where}: form is missing (a form's name or id)")
        if not isinstance(job, str) or not isinstance(round_, str):
            raise MappingError(f"{where}: job and round must be text")
        rules.append(Rule(job.strip() or "*", round_.strip() or "*", form.strip(), number))
    return FormMap(tuple(rules), source)
