"""/history: what the bot has written for an assessment, for its owner and admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.commands.base import Command, Outcome, Request, Wrong
from bot.commands.grammar import assessment_id, missing_id, snippet, tokens
from bot.commands.registry import command
from bot.jobs.delivery import Purpose
from bot.rubric import Rubric
from bot.views import interview_for, when
from cards.history import HistoryEntry, history_card


@command
@dataclass(frozen=True)
class History(Command):
    """Show what was written for one assessment."""

    name: ClassVar[str] = "history"
    aliases: ClassVar[tuple[str, ...]] = ("历史", "记录")
    usage: ClassVar[str] = "/history <assessment_id>"
    summary_zh: ClassVar[str] = "查看机器人为这条面评写入过的内容。"
    summary_en: ClassVar[str] = "Show what the bot has written for an assessment."
    examples: ClassVar[tuple[str, ...]] = ("/history 6930815272790114324",)

    assessment_id: str

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> History:
        found = tokens(args)
        if not found or found[0].key is not None:
            raise missing_id()
        if len(found) > 1:
            extra = found[1]
            raise Wrong(f"多余的内容“{snippet(extra.text)}”。", f"Unexpected '{snippet(extra.text)}'.")
        return cls(assessment_id=assessment_id(found[0]))

    def handle(self, req: Request) -> Outcome:
        ctx, aid = req.ctx, self.assessment_id
        assignment = ctx.store.assignment(aid)
        if assignment is not None:
            aid = assignment.key  # Feishu's id of a created assessment names the assignment's record
        known = ctx.store.known(aid)
        decision = auth.may_read(ctx.settings, req.actor, known.owner)
        if not decision.allowed and not (assignment is not None and req.actor == assignment.recruiter):
            return req.deny(aid, "history", decision)
        entries = [HistoryEntry(at=when(ctx, e.at), actor=e.actor, action=e.action, result=e.result,
                                changes=_change_lines(e.detail), log_id=e.log_id)
                   for e in ctx.store.history(aid, limit=500)]
        card = history_card(aid, entries, owner=known.owner, interview=interview_for(ctx, aid))
        return Outcome(jobs=[req.send(card, Purpose.HISTORY, private=True)])


def _change_lines(detail: dict) -> tuple[str, ...]:
    lines = []
    for name, change in (detail.get("fields") or {}).items():
        if isinstance(change, list):
            lines.append(f"{name}: {_show(change[0])} → {_show(change[1])}")
        else:
            lines.append(f"{name}: {change}")
    if detail.get("reason"):
        lines.append(str(detail["reason"]))
    return tuple(lines)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
