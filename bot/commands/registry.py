"""The command registry: typed commands by their words, clicked actions by their type; `parse` reads a message.

Registering is one decorator on the unit's class (a typed command) or function (a card action).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from bot.commands.base import Command, CommandProblem, Outcome, Request, Wrong
from bot.commands.grammar import COMMAND_CHARS
from bot.values import suggest

if TYPE_CHECKING:
    from bot.actions import Action
    from bot.rubric import Rubric

C = TypeVar("C", bound=type[Command])
ActionHandler = Callable[[Request, "Action"], Outcome]

_COMMANDS: list[type[Command]] = []
_BY_WORD: dict[str, type[Command]] = {}
_ACTIONS: dict[type, ActionHandler] = {}


def command(cls: C) -> C:
    """Register a command class under its name and aliases (each word once, case-insensitive)."""
    for word in cls.words():
        if word.casefold() in _BY_WORD:
            raise ValueError(f"command word {word!r} is already used by {_BY_WORD[word.casefold()].name!r}")
        _BY_WORD[word.casefold()] = cls
    _COMMANDS.append(cls)
    return cls


def on_action(action_type: type) -> Callable[[ActionHandler], ActionHandler]:
    """Register the handler of one kind of card action."""

    def register(handler: ActionHandler) -> ActionHandler:
        if action_type in _ACTIONS:
            raise ValueError(f"{action_type.__name__} already has a handler")
        _ACTIONS[action_type] = handler
        return handler

    return register


def handler_for(action: Action) -> ActionHandler:
    return _ACTIONS[type(action)]


def declarations() -> list[type[Command]]:
    """Every command, in registration order: words, usage, summaries, examples (the help card reads these)."""
    return list(_COMMANDS)


def usage(name: str) -> str:
    """How a command (named by its name or an alias) is written."""
    return _BY_WORD[name.removeprefix("/").casefold()].usage


def parse(text: str, mentions: Mapping[str, str] | None = None, rubric: Rubric | None = None) -> Command | None:
    """The command a message holds; None when it does not start with a command word.

    A command word may be written with or without a leading slash, in any case. `mentions` maps the
    `@_user_N` placeholders of the text to open_ids; `rubric`, when given, sharpens the hints.
    Raises CommandProblem when the word is a command (or a slashed near-miss of one) but the rest is wrong.
    """
    text = text.strip()
    head = text.split(maxsplit=1)[0] if text else ""
    args = text[len(head):]
    word = head.translate(COMMAND_CHARS)
    slashed = word.startswith("/")
    word = word.removeprefix("/")
    cls = _BY_WORD.get(word.casefold())
    if cls is None:
        hint = suggest(word, list(_BY_WORD)) if slashed and word else None
        if hint is None:
            return None
        near = _BY_WORD[hint.casefold()]
        raise CommandProblem(f"没有“{head}”这个命令，是否想输入 /{hint}？",
                             f"There is no command '{head}'. Did you mean /{hint}?",
                             usage=near.usage, suggestion=f"/{hint}", command=near.name)
    try:
        return cls.read(args, mentions or {}, rubric)
    except Wrong as wrong:
        raise CommandProblem(wrong.zh, wrong.en, usage=cls.usage, suggestion=wrong.suggestion,
                             command=cls.name) from None
