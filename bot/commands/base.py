"""What a command unit is given and what it returns: a Request in, an Outcome out; it never commits anything.

A unit's `handle()` returns the cards to deliver and the jobs to queue (as NewJobs), the audit rows, an
ownership change, and for a click the immediate answer; the flow commits all of it in the single
acknowledgement transaction (`Store.accept`), so a re-push can never half-apply a command.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from bot.auth import Decision
from bot.jobs.delivery import Private, Purpose, Reply, Target
from bot.store import NewJob
from cards.elements import toast
from cards.errors import denied_card

if TYPE_CHECKING:
    from bot.rubric import Rubric
    from bot.services import Context
    from bot.store.schedule import Plan

SEND = "send"  # the job kind that delivers a card built now


class CommandProblem(Exception):
    """A known command with arguments that cannot be read: a failure the user may see."""

    def __init__(self, zh: str, en: str, *, usage: str | None = None, suggestion: str | None = None,
                 command: str | None = None):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.usage = usage  # how the command is written, to show next to the message
        self.suggestion = suggestion  # what the user probably meant, when something is close
        self.command = command  # the command concerned (for a mistyped command word, the one suggested)


class Wrong(Exception):
    """A problem found while reading one command's arguments; the registry adds the command and its usage."""

    def __init__(self, zh: str, en: str, suggestion: str | None = None):
        super().__init__(en)
        self.zh, self.en, self.suggestion = zh, en, suggestion


@dataclass(frozen=True)
class Inline:
    """Run the outcome's write now and answer the click with its card; `saving` is the card if it is slow."""

    budget: float
    saving: Callable[[], dict]


@dataclass
class Outcome:
    """Everything a command decided, committed at once by the flow."""

    jobs: list[NewJob] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # dedup keys beyond the event's own
    owner_change: tuple[str, str] | None = None  # (assessment_id, new owner)
    assignment_updates: list[tuple[int, dict]] = field(default_factory=list)  # (assignment id, column values)
    new_assignments: list[dict] = field(default_factory=list)  # schedule rows to upsert, reminders by `plan`
    plan: Plan | None = None
    write: bool = False  # the first job is a submission: the actor claims the assessment (or is Denied)
    may_override: bool = False  # an admin writes whoever owns it
    answer: dict = field(default_factory=dict)  # a click's immediate answer (toast, card)
    inline: Inline | None = None


@dataclass(frozen=True)
class Request:
    """One typed command or one click: who, where answers go, and the process's services."""

    ctx: Context
    actor: str
    event_id: str
    message_id: str = ""  # the typed message (empty for a click)
    in_group: bool = False
    chat_id: str | None = None
    mentions: Mapping[str, str] = field(default_factory=dict)
    clicked: Target | None = None  # the clicked card (a click)
    form_value: Mapping[str, object] = field(default_factory=dict)  # what a submitted form held

    @property
    def via(self) -> str:
        return "card" if self.clicked is not None else "message"

    def reply(self) -> Target:
        """Where an answer to the command goes: its thread, the clicked card, or (a menu click, which has no
        message) the person's chat with the bot."""
        if self.clicked is None and not self.message_id:
            return Private(self.actor, f"menu:{self.event_id}")
        return self.clicked or Reply(self.message_id, self.message_id)

    def private(self) -> Target:
        """Feedback never goes to a group: forms and confirmations go to the person directly."""
        if self.clicked is not None or not self.in_group:
            return self.reply()
        return Private(self.actor, self.message_id)

    def send(self, card: dict, purpose: Purpose, *, private: bool = False) -> NewJob:
        """A job that delivers `card` as an answer to this request."""
        to = self.private() if private else self.reply()
        return NewJob(SEND, {"card": card, "target": to.encode(), "purpose": purpose.value, "event_id": self.event_id})

    def deny(self, assessment_id: str | None, action: str, decision: Decision) -> Outcome:
        """Refuse, audited: a card in the chat for a typed command, a toast for a click."""
        audit = {"actor": self.actor, "assessment_id": assessment_id, "action": action, "result": "denied",
                 "detail": {"reason": decision.reason, "via": self.via}}
        if self.clicked is not None:
            return Outcome(audits=[audit], answer={"toast": toast("error", decision.zh, decision.en)})
        return Outcome(jobs=[self.send(denied_card(decision.zh, decision.en), Purpose.DENIED)], audits=[audit])


class Command(ABC):
    """A typed command: its declaration (words, usage, help) and, once read from a message, `handle()`."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    usage: ClassVar[str]
    summary_zh: ClassVar[str]
    summary_en: ClassVar[str]
    examples: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def words(cls) -> tuple[str, ...]:
        return (cls.name, *cls.aliases)

    @classmethod
    @abstractmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Command:
        """The command with its arguments read from the text after the command word; raises Wrong."""

    @abstractmethod
    def handle(self, req: Request) -> Outcome:
        """What to do, as an Outcome (nothing committed here)."""
