"""The values carried by buttons and forms: typed actions, one discriminated union with one encoder and decoder.

On the wire a value is a JSON object whose `a` names the action, with short keys; cards already sent keep
working as long as these names and keys stay the same.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

_WIRE = ConfigDict(extra="ignore", populate_by_name=True)
Count = Annotated[StrictInt, Field(ge=0)]  # an assignment's row id, a page: never a bool, a string or negative
Text = Annotated[str, Field(min_length=1)]


def _job_or_none(value: object) -> object:
    """An unusable draft job id is dropped rather than refused: the form still opens, without the draft."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Value:
    """An action's wire form: `encode()` gives the value a button or a form carries."""

    def encode(self) -> dict:
        return encode(self)  # type: ignore[arg-type]


@dataclass(frozen=True, config=_WIRE)
class OpenForm(_Value):
    """"Edit" and "Try again": open the form for an assessment, with a kept draft from job `draft_job`."""

    assessment_key: Text = Field(alias="id")
    draft_job: Annotated[int | None, BeforeValidator(_job_or_none)] = Field(default=None, alias="job")
    kind: Literal["form"] = Field(default="form", alias="a")


@dataclass(frozen=True, config=_WIRE)
class SubmitForm(_Value):
    """The form's submit button: which assessment, whose form, signed so it cannot be forged (see bot.auth).

    Missing parts decode as empty: bot.auth refuses the form then, with a message that says to open it again.
    """

    assessment_key: str = Field(default="", alias="id")
    opened_for: str = Field(default="", alias="for")
    nonce: str = Field(default="", alias="n")
    sig: str = ""
    form: str | None = Field(default=None, alias="f")  # the Hire form version shown (unsigned: only to show it again)
    kind: Literal["submit"] = Field(default="submit", alias="a")


@dataclass(frozen=True, config=_WIRE)
class Snooze(_Value):
    """"Remind me later" on a reminder: the next working morning, or three hours, whichever is sooner."""

    assignment: Count = Field(alias="as")
    kind: Literal["later"] = Field(default="later", alias="a")


@dataclass(frozen=True, config=_WIRE)
class NotMine(_Value):
    """"Not my interview" on a reminder: asked to confirm first (`sure` unset); confirmed, the recruiter is told and
    the reminders stop."""

    assignment: Count = Field(alias="as")
    sure: bool | None = Field(default=None, alias="ok")
    kind: Literal["notmine"] = Field(default="notmine", alias="a")


@dataclass(frozen=True, config=_WIRE)
class Nudge(_Value):
    """"Remind the missing ones" on a panel's progress card: the reminder now, to those still due."""

    application: Text = Field(alias="app")
    kind: Literal["nudge"] = Field(default="nudge", alias="a")


@dataclass(frozen=True, config=_WIRE)
class Share(_Value):
    """"Share with the panel" on a calibration summary: its interviewers may see it from now on."""

    application: Text = Field(alias="app")
    kind: Literal["share"] = Field(default="share", alias="a")


@dataclass(frozen=True, config=_WIRE)
class ShowSummary(_Value):
    """A page of an application's calibration summary (the first is 0)."""

    application: Text = Field(alias="app")
    page: Count = Field(default=0, alias="p")
    fresh: bool | None = Field(default=None, alias="new")  # send it as a new message, not in place
    kind: Literal["summary"] = Field(default="summary", alias="a")


@dataclass(frozen=True, config=_WIRE)
class OpenComment(_Value):
    """One interviewer's comments on a summary, in full."""

    assignment: Count = Field(alias="as")
    kind: Literal["comment"] = Field(default="comment", alias="a")


@dataclass(frozen=True, config=_WIRE)
class ImportFile(_Value):
    """"Import" (or "Import the valid rows") on a schedule file's preview."""

    upload: Text = Field(alias="u")
    valid_only: bool = Field(default=False, alias="v")
    kind: Literal["import"] = Field(default="import", alias="a")


@dataclass(frozen=True, config=_WIRE)
class DropFile(_Value):
    """"Cancel" on a schedule file's preview: nothing is imported."""

    upload: Text = Field(alias="u")
    kind: Literal["drop"] = Field(default="drop", alias="a")


Action = (OpenForm | SubmitForm | Snooze | NotMine | Nudge | Share | ShowSummary | OpenComment | ImportFile
          | DropFile)
_ACTIONS: TypeAdapter[Action] = TypeAdapter(Annotated[Action, Field(discriminator="kind")])


class Stale(Exception):
    """A value no action of this version understands (an old card, a crafted value): ask to start again."""


class Incomplete(Stale):
    """A known action missing a field it needs."""


def encode(action: Action) -> dict:
    """The value a button or a form carries."""
    return _ACTIONS.dump_python(action, by_alias=True, exclude_none=True)


def decode(value: object) -> Action:
    """The action a clicked value carries; raises Stale for anything else, Incomplete for a known one with a
    field missing or wrong."""
    try:
        return _ACTIONS.validate_python(value)
    except ValidationError as exc:
        kinds = {error["type"] for error in exc.errors()}
        if kinds & {"union_tag_invalid", "union_tag_not_found", "model_attributes_type", "dataclass_type"}:
            raise Stale(value.get("a") if isinstance(value, dict) else None) from None
        raise Incomplete(", ".join(str(error["loc"][-1]) for error in exc.errors())) from None
