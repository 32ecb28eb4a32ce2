"""What a command unit is given and what it returns: a Request in, an Outcome out; it never commits anything.

A unit's `handle()` returns the cards to deliver and the jobs to queue (as NewJobs), the audit rows, an
ownership change, and for a click the immediate answer; the flow commits all of it in the single
acknowledgement transaction (`Store.accept`), so a re-push can never half-apply a command.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from bot import auth
from bot.auth import Decision
from bot.contract import Clicked, LearnPeople, NewJob, Private, Purpose, Reply, Send, Target
from bot.display import Names
from cards.elements import toast
from cards.errors import denied_card

if TYPE_CHECKING:
    from bot.rubric import Rubric
    from bot.services import Context
    from bot.store.schedule import Plan


SHOWN_SCHEDULERS = 5  # people a refusal names as those who may schedule


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
    """Run the outcome's first job now and answer the click with its card; if it is slow, with the card `saving`
    builds (None: the clicked card stays) and the toast `note` (None: "Saving…")."""

    budget: float
    saving: Callable[[], dict | None]
    note: dict | None = None


@dataclass
class Outcome:
    """Everything a command decided, committed at once by the flow."""

    jobs: list[NewJob] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # dedup keys beyond the event's own
    owner_change: tuple[str, str] | None = None  # (assessment key, new owner)
    assignment_updates: list[tuple[int, dict]] = field(default_factory=list)  # (assignment id, column values)
    pins: list[tuple[int, str]] = field(default_factory=list)  # (assignment id, form version): its first look
    new_assignments: list[dict] = field(default_factory=list)  # schedule rows to upsert, reminders by `plan`
    plan: Plan | None = None
    upload_state: tuple[str, tuple[str, ...], str] | None = None  # (upload, the states it may be in, new state)
    write: bool = False  # the first job is a submission: the actor claims the assessment (or is Denied)
    may_override: bool = False  # an admin writes whoever owns it
    toast: dict | None = None  # a click's immediate answer: a toast,
    card: dict | None = None  # and/or a card that replaces the one clicked
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
    parent_id: str = ""  # the message the typed one replies to
    clicked: Clicked | None = None  # the clicked card (a click)
    form_value: Mapping[str, object] = field(default_factory=dict)  # what a submitted form held

    @cached_property
    def names(self) -> Names:
        """People's names as the database knows them (the people it does not know are looked up by a job)."""
        return Names(self.ctx)

    def may_write(self, key: str, owner: str | None, shown_id: str) -> Decision:
        """Whether the person may write the assessment; a refusal names its owner (their open_id when the bot has
        not learnt their name yet) and how to have it handed over."""
        name = self.names(owner) if owner is not None and owner != self.actor else None  # else its open_id
        return auth.may_write(self.ctx.settings, self.actor, owner, owner_name=name, shown_id=shown_id)

    def may_schedule(self, what: tuple[str, str] = auth.ASSIGN) -> Decision:
        """Whether the person may load schedules (an admin or a scheduler); a refusal names who may."""
        settings = self.ctx.settings
        emails = auth.scheduler_emails(settings)
        resolved = self.ctx.store.people(emails, 0.0) if emails else {}
        if auth.is_scheduler(settings, self.actor, resolved):
            return auth.ALLOW
        who: list[str] = []
        for person in (*settings.assessbot_admins, *settings.assessbot_schedulers):
            open_id = resolved.get(person, person)
            name = self.names.known(open_id) if open_id.startswith("ou_") else None
            shown = name or (person if "@" in person else None)
            if shown and shown not in who:
                who.append(shown)
        return auth.may_schedule(settings, self.actor, resolved, what, who[:SHOWN_SCHEDULERS])

    def learn_schedulers(self) -> list[NewJob]:
        """The job that looks up the schedulers named by email whom the people cache does not know yet."""
        emails = auth.scheduler_emails(self.ctx.settings)
        unknown = sorted(set(emails) - set(self.ctx.store.people(emails, 0.0))) if emails else []
        return [NewJob(LearnPeople(refs=unknown))] if unknown else []

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
        return NewJob(Send(card=card, target=to, purpose=purpose, event_id=self.event_id))

    def deny(self, assessment_key: str | None, action: str, decision: Decision) -> Outcome:
        """Refuse, audited: a card in the chat for a typed command, a toast for a click."""
        audit = {"actor": self.actor, "assessment_key": assessment_key, "action": action, "result": "denied",
                 "detail": {"reason": decision.reason, "via": self.via}}
        if self.clicked is not None:
            return Outcome(audits=[audit], toast=toast("error", decision.zh, decision.en))
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
