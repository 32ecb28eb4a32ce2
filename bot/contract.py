"""The job contract: every kind of job the bot queues, named once with its typed payload, and where a job's cards
go (a target) and why (a purpose).

Request-time code builds a `NewJob` from a payload model; the store writes it (`encode`) and reads it back
(`decode`) without looking inside; an executor gets the model. The JSON in the jobs table keeps the keys that
earlier releases wrote, so jobs queued before an upgrade still run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as wire

from bot.assessment import Submission

_WIRE = ConfigDict(extra="ignore")


class Purpose(StrEnum):
    """Why a card is sent; with the source message it makes the delivery's idempotency key (Feishu's uuid)."""

    HELP = "h"
    PROBLEM = "p"
    DENIED = "d"
    INVALID = "i"
    HANDED_OVER = "o"
    HISTORY = "y"
    GROUP_NOTICE = "n"
    FORM = "form"
    CONFIRMED = "c"
    FAILED = "f"
    MESSAGE = "m"
    REMINDER = "r"
    DIGEST = "g"
    ESCALATED = "e"
    NOT_MINE = "x"
    INBOX = "t"
    SHORT = "s"  # the short card sent instead of one Feishu refused
    TEXT = "tx"  # the plain text sent when no card is accepted
    WHOAMI = "w"
    PANEL = "pl"
    PREVIEW = "pv"  # a schedule file's preview (updated in place as it is checked, imported or dropped)


# -- where a card goes -------------------------------------------------------------------------------------------

@wire(frozen=True, config=_WIRE)
class Reply:
    """A reply in the thread of the message that asked."""

    message_id: str
    source: str = ""
    type: Literal["reply"] = "reply"


@wire(frozen=True, config=_WIRE)
class Private:
    """A message to one person in their chat with the bot."""

    open_id: str
    source: str = ""
    type: Literal["private"] = "private"


@wire(frozen=True, config=_WIRE)
class Clicked:
    """The card a person clicked: its callback token (30 minutes, two uses) and its message."""

    token: str = ""
    message_id: str = ""
    at: float = 0.0
    source: str = ""
    type: Literal["card"] = "card"


Target = Annotated[Reply | Private | Clicked, Field(discriminator="type")]


# -- what each kind of job carries ---------------------------------------------------------------------------------

class Payload(BaseModel):
    """What one kind of job carries; `kind` names the kind in the jobs table."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    kind: ClassVar[str]


class Write(Payload):
    """Write a submission to its assessment (PATCH, or create it first), then confirm where `target` says."""

    kind: ClassVar[str] = "write"
    submission: Submission
    actor: str
    actor_name: str | None = None  # the interviewer name typed (`name=`), if any
    target: Target
    via: str = "message"
    event_id: str = ""


class SendForm(Payload):
    """Build the form of one assessment for one person, prefilled, and send it."""

    kind: ClassVar[str] = "form"
    key: str = Field(alias="id")
    opened_for: str = Field(alias="for")
    nonce: str
    draft_job: int | None = Field(default=None, alias="job")  # a failed write whose values the form keeps
    target: Target
    event_id: str = ""


class Send(Payload):
    """Deliver a card built when the command was acknowledged (help, problems, denials, notices)."""

    kind: ClassVar[str] = "send"
    card: dict[str, Any]
    target: Target
    purpose: Purpose = Purpose.MESSAGE
    event_id: str = ""


class Remind(Payload):
    """Remind an interviewer of one assignment, unless the reminder planned for it changed since."""

    kind: ClassVar[str] = "remind"
    assignment: int
    at: float


class Digest(Payload):
    """One person's daily list of what they still owe."""

    kind: ClassVar[str] = "digest"
    person: str


class RefreshPanel(Payload):
    """Send or update an application's cards for its recruiters; `planned`: queued when an interview ends."""

    kind: ClassVar[str] = "panel"
    application: str
    planned: bool = False


class NudgePanel(Payload):
    """Remind the interviewers of an application who are still due, now (the recruiter asked)."""

    kind: ClassVar[str] = "panel-nudge"
    application: str
    actor: str
    event_id: str = ""


class SharePanel(Payload):
    """Let an application's interviewers see its summary, and send it to each of them."""

    kind: ClassVar[str] = "panel-share"
    application: str
    actor: str
    event_id: str = ""


class LearnNames(Payload):
    """Look people's names up in Feishu and keep them, for the cards built while Feishu waits for an answer."""

    kind: ClassVar[str] = "names"
    people: list[str]


class SyncForms(Payload):
    """Read the tenant's feedback forms from Feishu Hire into the database, then plan the next sync."""

    kind: ClassVar[str] = "forms"



class LearnPeople(Payload):
    """Look people named by email or mobile up in Feishu and keep their open_ids (the schedulers of
    ASSESSBOT_SCHEDULERS given by email, recognised at request time from the cache this fills)."""

    kind: ClassVar[str] = "people"
    refs: list[str]


class CheckUpload(Payload):
    """Download a schedule file sent in chat (or the file a reply asks to import), check it as `assessbot import`
    does, and answer with its preview: Import, Import the valid rows, Cancel."""

    kind: ClassVar[str] = "upload"
    upload: str  # the message that asked: the file's own, or the reply
    uploader: str
    message_id: str  # the message holding the file
    file_key: str = ""  # empty: read from that message first
    file_name: str = ""
    target: Target  # where the preview goes
    event_id: str = ""


class ImportUpload(Payload):
    """Import a previewed file (only its valid rows, when asked), then show what changed in place of the preview."""

    kind: ClassVar[str] = "upload-import"
    upload: str
    valid_only: bool = False
    actor: str
    target: Target  # the preview clicked
    event_id: str = ""


class SyncTable(Payload):
    """Read a Bitable and take its schedule in. `period` (seconds): a periodic read, which plans the next one; 0:
    a read asked for now (a record-changed event)."""

    kind: ClassVar[str] = "table-sync"
    url: str
    period: float = 0.0


class WriteStatus(Payload):
    """Write each record's state into a table's status column, one write at a time per base."""

    kind: ClassVar[str] = "table-status"
    source: str


KINDS: dict[str, type[Payload]] = {cls.kind: cls for cls in (
    Write, SendForm, Send, Remind, Digest, RefreshPanel, NudgePanel, SharePanel, LearnNames, SyncForms,
    LearnPeople, CheckUpload, ImportUpload, SyncTable, WriteStatus)}


@dataclass(frozen=True)
class Unreadable:
    """A job row whose payload this release cannot read (an unknown kind, a damaged row): it is given up."""

    kind: str
    reason: str


@dataclass(frozen=True)
class NewJob:
    """A job to commit, with the acknowledgement or on its own."""

    payload: Payload
    assessment_key: str | None = None  # the bot's key of the assessment it writes (one writer at a time)
    versioned: bool = False  # a write: gets the assessment's next submission version
    delay: float = 0.0  # not claimable by background runners before this many seconds (an inline answer runs it)

    @property
    def kind(self) -> str:
        return self.payload.kind

    def with_payload(self, payload: Payload) -> NewJob:
        return replace(self, payload=payload)


@dataclass(frozen=True)
class Job:
    """A claimed job, as the runner and its executor see it."""

    id: int
    kind: str
    assessment_key: str | None
    version: int | None
    payload: Payload | Unreadable
    stage: str
    attempts: int
    created_at: float
    lease_owner: str


def encode(payload: Payload) -> str:
    """The payload as stored in the jobs table."""
    return payload.model_dump_json(by_alias=True)


def decode(kind: str, text: str) -> Payload | Unreadable:
    """A stored payload as its kind's model; Unreadable when this release cannot read it."""
    model = KINDS.get(kind)
    if model is None:
        return Unreadable(kind, f"no job kind {kind!r} in this release")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        return Unreadable(kind, f"payload not understood: {exc.error_count()} problem(s)")


_TARGET: TypeAdapter[Reply | Private | Clicked] = TypeAdapter(Target)


def target_value(to: Reply | Private | Clicked) -> dict:
    """A target as JSON (the form a card value or a payload carries)."""
    return _TARGET.dump_python(to, mode="json")


def target_of(value: dict) -> Reply | Private | Clicked:
    """A target from its JSON (as `target_value` wrote it)."""
    return _TARGET.validate_python(value)
