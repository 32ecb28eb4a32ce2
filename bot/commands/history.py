"""/history: what the bot has written for an assessment, for its owner and admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bot import auth
from bot.assessment import Conclusion
from bot.commands.base import Command, Outcome, Request, Wrong
from bot.commands.grammar import assessment_id, missing_id, snippet, tokens
from bot.commands.registry import command
from bot.contract import Purpose
from bot.display import interview_for, when
from bot.rubric import Dimension, Rubric
from bot.values import shown
from cards.history import HistoryEntry, history_card
from cards.notice import text_card


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

    typed_id: str

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> History:
        found = tokens(args)
        if not found or found[0].key is not None:
            raise missing_id()
        if len(found) > 1:
            extra = found[1]
            raise Wrong(f"多余的内容“{snippet(extra.text)}”。", f"Unexpected '{snippet(extra.text)}'.")
        return cls(typed_id=assessment_id(found[0]))

    def handle(self, req: Request) -> Outcome:
        ctx, aid = req.ctx, self.typed_id
        assignment = ctx.store.assignment(aid)
        if assignment is not None:
            aid = assignment.key  # Feishu's id of a created assessment names the assignment's record
        known = ctx.store.known(aid)
        assignment = ctx.store.assignment(aid)
        entries = ctx.store.history(aid, limit=500)
        if known.owner is None and known.applied_version == 0 and assignment is None and not entries:
            shown = self.typed_id
            card = text_card(f"没有面评 {shown} 的记录：机器人还没有处理过这条面评。请检查 ID。",
                             f"No history for {shown}: the bot has never handled this assessment. Check the id.",
                             template="grey")
            return Outcome(jobs=[req.send(card, Purpose.HISTORY, private=True)])
        recruiter = assignment.recruiter if assignment is not None else None
        decision = auth.may_read(ctx.settings, req.actor, known.owner, recruiter)
        if not decision.allowed:
            return req.deny(aid, "history", decision)
        names = req.names
        current = ctx.forms.choose(aid, assignment, known).rubric

        def written_with(detail: dict) -> Rubric:
            """The rubric a write used (its titles then), else the assessment's (entries before forms existed)."""
            return ctx.forms.version(detail.get("form")) or current

        shown = [HistoryEntry(at=when(ctx, e.at), actor=names(e.actor), action=e.action, result=e.result,
                              changes=_change_lines(e.detail, written_with(e.detail)), log_id=e.log_id)
                 for e in entries if not _changed_nothing(e.action, e.result, e.detail)]
        owner = names(known.owner) if known.owner else None
        card = history_card(self.typed_id, shown, owner=owner, unchanged=len(entries) - len(shown),
                            interview=interview_for(ctx, aid))
        return Outcome(jobs=[req.send(card, Purpose.HISTORY, private=True)])


def _changed_nothing(action: str, result: str, detail: dict) -> bool:
    """A save that left every field as it was (the same values sent again)."""
    return action == "write" and result == "ok" and "fields" in detail and not detail["fields"]


_FIELDS = {"conclusion": ("结论", "Conclusion"), "content": ("综合记录", "Overall comment"),
           "username": ("面试官姓名", "Interviewer name")}


def _change_lines(detail: dict, rubric: Rubric) -> tuple[tuple[str, str], ...]:
    """Each changed field as a (zh, en) line: rubric titles, conclusions as words."""
    lines = []
    order = {name: n for n, name in enumerate(("username", "conclusion", *(d.key for d in rubric.dimensions),
                                               "content"))}
    fields = sorted((detail.get("fields") or {}).items(), key=lambda item: order.get(item[0], len(order)))
    for name, change in fields:  # in the form's order
        dim = (rubric.dimension(name) or rubric.find(name)) if name not in _FIELDS else None
        zh_name, en_name = _FIELDS.get(name) or ((dim.title, dim.label_en) if dim else (name, name))
        if isinstance(change, list):
            (old_zh, old_en), (new_zh, new_en) = (_show(v, name == "conclusion", dim) for v in change[:2])
            lines.append((f"{zh_name}：{old_zh} → {new_zh}", f"{en_name}: {old_en} → {new_en}"))
        else:
            lines.append((f"{zh_name}：已修改", f"{en_name}: changed"))
    if detail.get("reason"):
        lines.append((str(detail["reason"]), str(detail["reason"])))
    return tuple(lines)


def _show(value: object, conclusion: bool, dim: Dimension | None = None) -> tuple[str, str]:
    if value is None:
        return "—", "—"
    if conclusion and isinstance(value, int) and value in (1, 2, 3):
        word = Conclusion(value)
        return word.zh, word.en
    if dim is not None and (dim.by_option or dim.options_en) and isinstance(value, int | str | list):
        return shown(dim, tuple(value) if isinstance(value, list) else value)  # a form's options by their labels
    if isinstance(value, list):
        return "、".join(map(str, value)), ", ".join(map(str, value))
    return str(value), str(value)
