"""/todo: the interviewer's inbox — feedback due (overdue first), today's interviews to come, the last submitted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot.actions import OpenForm
from bot.commands.base import Command, Outcome, Request
from bot.commands.registry import command
from bot.contract import Purpose
from bot.display import interview_view, when
from bot.rubric import Rubric
from cards.reminder import inbox_card


@command
@dataclass(frozen=True)
class Todo(Command):
    """Show what the person owes and what is coming (also `/assess` with nothing after it, and the bot's menu)."""

    name: ClassVar[str] = "todo"
    aliases: ClassVar[tuple[str, ...]] = ("my", "待办", "我的面试")
    usage: ClassVar[str] = "/todo"
    summary_zh: ClassVar[str] = "查看待填写的面试反馈（逾期的在前）、今天稍后的面试和最近提交的反馈，可直接打开表单。"
    summary_en: ClassVar[str] = ("Show the interview feedback you owe (overdue first), today's interviews still to "
                                 "come and what you submitted lately, each with its form.")
    examples: ClassVar[tuple[str, ...]] = ("/todo", "待办")

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Todo:
        return cls()

    def handle(self, req: Request) -> Outcome:
        return Outcome(jobs=[req.send(inbox(req), Purpose.INBOX, private=True)])


def inbox(req: Request) -> dict:
    """The inbox card of the person asking."""
    ctx, now = req.ctx, req.ctx.clock()
    local_now = when(ctx, now)
    day_ends = local_now.replace(hour=23, minute=59, second=59).timestamp()
    due = [interview_view(ctx, a) for a in ctx.store.due(req.actor, now)]
    today = [interview_view(ctx, a) for a in ctx.store.assignments_of(req.actor, since=now)
             if now < a.start_at <= day_ends and a.open]
    done = [interview_view(ctx, a) for a in ctx.store.submitted(req.actor)]
    fill = {i.key: OpenForm(i.key).encode() for i in (*due, *done)}
    return inbox_card(due, today, done, now=local_now, fill=fill)
