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


@dataclass(frozen=True)
class Nudge:
    """"Remind the missing ones" on a panel's progress card: the reminder now, to those still due."""

    kind: ClassVar[str] = "nudge"
    application: str

    def encode(self) -> dict:
        return {"a": self.kind, "app": self.application}


@dataclass(frozen=True)
class Share:
    """"Share with the panel" on a calibration summary: its interviewers may see it from now on."""

    kind: ClassVar[str] = "share"
    application: str

    def encode(self) -> dict:
        return {"a": self.kind, "app": self.application}


@dataclass(frozen=True)
class ShowSummary:
    """A page of an application's calibration summary (the first is 0)."""

    kind: ClassVar[str] = "summary"
    application: str
    page: int = 0
    fresh: bool = False  # send it as a new message (from the list or the progress card), not in place

    def encode(self) -> dict:
        value: dict = {"a": self.kind, "app": self.application, "p": self.page}
        if self.fresh:
            value["new"] = 1
        return value


@dataclass(frozen=True)
class OpenComment:
    """One interviewer's comments on a summary, in full."""

    kind: ClassVar[str] = "comment"
    assignment: int

    def encode(self) -> dict:
        return {"a": self.kind, "as": self.assignment}


Action = OpenForm | SubmitForm | Snooze | NotMine | Nudge | Share | ShowSummary | OpenComment


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
    if kind in (Snooze.kind, NotMine.kind, OpenComment.kind):
        assignment = _number(value, "as")
        return {Snooze.kind: Snooze, NotMine.kind: NotMine, OpenComment.kind: OpenComment}[kind](assignment)
    if kind in (Nudge.kind, Share.kind):
        return (Nudge if kind == Nudge.kind else Share)(_text(value, "app"))
    if kind == ShowSummary.kind:
        return ShowSummary(_text(value, "app"), _number(value, "p") if "p" in value else 0, value.get("new") == 1)
    raise Stale(kind)


def _number(value: dict, key: str) -> int:
    found = value.get(key)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise Incomplete(key)
    return found


def _text(value: dict, key: str, *, required: bool = True) -> str:
    found = value.get(key)
    if isinstance(found, str) and found:
        return found
    if required:
        raise Incomplete(key)
    return ""


class Incomplete(Stale):
    """A known action missing a field it needs."""
