"""/help: every command's usage and examples, and what the rubric lets people type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import Command, Outcome, Request
from bot.commands.registry import command, declarations
from bot.jobs.delivery import Purpose
from bot.rubric import Rubric
from cards.help import help_card


@command
@dataclass(frozen=True)
class Help(Command):
    """Show the commands (also the answer to a message that is no command)."""

    name: ClassVar[str] = "help"
    aliases: ClassVar[tuple[str, ...]] = ("帮助", "?")
    usage: ClassVar[str] = "/help"
    summary_zh: ClassVar[str] = "显示各命令的用法。"
    summary_en: ClassVar[str] = "Show how to use each command."
    examples: ClassVar[tuple[str, ...]] = ("/help", "帮助")

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Help:
        return cls()  # anything after the word is ignored: "? how do I…" still deserves the help

    def handle(self, req: Request) -> Outcome:
        return Outcome(jobs=[req.send(help_card(declarations(), rubric=req.ctx.rubric), Purpose.HELP)])
