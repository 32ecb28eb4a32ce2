"""/help: every command's usage and examples, and what the rubric lets people type; /help <candidate or id>: the
form of that interview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.commands.base import Command, Outcome, Request
from bot.commands.grammar import ASSESSMENT_ID
from bot.commands.registry import command, declarations
from bot.contract import Purpose
from bot.display import interview_view
from bot.rubric import Rubric
from cards.help import help_card


@command
@dataclass(frozen=True)
class Help(Command):
    """Show the commands (also the answer to a message that is no command)."""

    name: ClassVar[str] = "help"
    aliases: ClassVar[tuple[str, ...]] = ("帮助", "?")
    usage: ClassVar[str] = "/help [candidate | interview id]"
    summary_zh: ClassVar[str] = "显示各命令的用法；加上候选人姓名或面试 ID，显示该面试的评价表。"
    summary_en: ClassVar[str] = ("Show how to use each command; with a candidate's name or an interview id, that "
                                 "interview's feedback form.")
    examples: ClassVar[tuple[str, ...]] = ("/help", "帮助", "/help 张伟")

    about: str = ""  # a candidate or an id: the help shows that interview's form (else: anything, ignored)

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Help:
        return cls(about=" ".join(args.split())[:100])  # "? how do I…" still deserves the help

    def handle(self, req: Request) -> Outcome:
        ctx = req.ctx
        rubric, about = ctx.rubric, None
        if self.about:
            person = None if auth.is_admin(ctx.settings, req.actor) else req.actor
            matches = ctx.store.find_assignments(self.about, person)
            if len(matches) == 1:
                found = matches[0]
                rubric = ctx.forms.choose(found.key, found).rubric
                shown = interview_view(ctx, found)
                what = " · ".join(p for p in (shown.candidate, shown.position, shown.round) if p)
                about = (f"面试：{what}", f"Interview: {what}")
            elif ASSESSMENT_ID.fullmatch(self.about) and ctx.store.known(self.about).applied_version:
                rubric, about = ctx.forms.rubric_for(self.about), (f"面评 {self.about}", f"Assessment {self.about}")
        forms = about is None and any(f.origin == "hire" for f in ctx.store.stored_forms(current_only=True))
        card = help_card(declarations(), rubric=rubric, about=about, forms=forms)
        return Outcome(jobs=[req.send(card, Purpose.HELP)])
