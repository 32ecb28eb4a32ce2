"""The values carried by buttons and forms: small typed actions with one encoder and one decoder.

On the wire a value is a JSON object whose `a` names the action; cards already sent keep working as long as
these names and fields stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class OpenForm:
    """"Edit" and "Try again": open the form for an assessment, with a kept draft from job `draft_job`."""

    kind: ClassVar[str] = "form"
    assessment_id: str
    draft_job: int | None = None

    def encode(self) -> dict:
        value: dict = {"a": self.kind, "id": self.assessment_id}
        if self.draft_job is not None:
            value["job"] = self.draft_job
        return value


@dataclass(frozen=True)
class SubmitForm:
    """The form's submit button: which assessment, whose form, signed so it cannot be forged (see bot.auth)."""

    kind: ClassVar[str] = "submit"
    assessment_id: str
    opened_for: str
    nonce: str
    sig: str

    def encode(self) -> dict:
        return {"a": self.kind, "id": self.assessment_id, "for": self.opened_for, "n": self.nonce, "sig": self.sig}


@dataclass(frozen=True)
class Snooze:
    """"Remind me later" on a reminder: the next working morning, or three hours, whichever is sooner."""

    kind: ClassVar[str] = "later"
    assignment: int

    def encode(self) -> dict:
        return {"a": self.kind, "as": self.assignment}


@dataclass(frozen=True)
class NotMine:
    """"Not my interview" on a reminder: the recruiter is told and the reminders stop."""

    kind: ClassVar[str] = "notmine"
    assignment: int

    def encode(self) -> dict:
        return {"a": self.kind, "as": self.assignment}


Action = OpenForm | SubmitForm | Snooze | NotMine


class Stale(Exception):
    """A value no action of this version understands (an old card, a crafted value): ask to start again."""


def decode(value: dict) -> Action:
    """The action a clicked value carries; raises Stale for anything else."""
    kind = value.get("a")
    if kind == OpenForm.kind:
        job = value.get("job")
        return OpenForm(_text(value, "id"), job if isinstance(job, int) and not isinstance(job, bool) else None)
    if kind == SubmitForm.kind:
        return SubmitForm(*(_text(value, key, required=False) for key in ("id", "for", "n", "sig")))
    if kind in (Snooze.kind, NotMine.kind):
        assignment = value.get("as")
        if not isinstance(assignment, int) or isinstance(assignment, bool):
            raise Incomplete("as")
        return (Snooze if kind == Snooze.kind else NotMine)(assignment)
    raise Stale(kind)


def _text(value: dict, key: str, *, required: bool = True) -> str:
    found = value.get(key)
    if isinstance(found, str) and found:
        return found
    if required:
        raise Incomplete(key)
    return ""


class Incomplete(Stale):
    """A known action missing a field it needs."""
