"""The /history card: who did what to an assessment, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cards.elements import Element, card, fit, header, note, text, user_text, when
from cards.reminder import Interview, about, small_print, subtitle

MAX_SHOWN = 40
# what each action is, as (zh, en) for "did it" and for "to do it" (refused or failed)
_DONE = {"write": ("保存了面评", "saved the assessment"), "assess": ("提交了面评", "submitted the assessment"),
         "form": ("打开了表单", "opened the form"), "edit": ("修改了面评", "edited the assessment"),
         "transfer": ("转交了面评", "handed the assessment over"), "history": ("查看了记录", "viewed the history"),
         "not_mine": ("表示这不是自己的面试", "said it was not their interview"),
         "remind": ("处理了提醒", "answered a reminder")}
_TRIED = {"write": ("保存面评", "save the assessment"), "assess": ("提交面评", "submit the assessment"),
          "form": ("打开表单", "open the form"), "edit": ("修改面评", "edit the assessment"),
          "transfer": ("转交面评", "hand the assessment over"), "history": ("查看记录", "view the history"),
          "not_mine": ("标记为不是自己的面试", "mark it as not their interview"),
          "remind": ("处理提醒", "answer a reminder")}
# characters of (changes, names) and how many entries, fullest first
# (0 changes: the rows alone, without their details)
_LIMITS = ((600, 60, MAX_SHOWN), (200, 40, MAX_SHOWN), (80, 24, MAX_SHOWN), (30, 16, MAX_SHOWN), (16, 10, MAX_SHOWN),
           (0, 10, MAX_SHOWN), (16, 10, 20), (16, 10, 10))


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an assessment's history; `changes` are human-readable (zh, en) lines, `actor` a name."""

    at: datetime
    actor: str
    action: str
    result: str
    changes: tuple[tuple[str, str], ...] = ()
    log_id: str | None = None


def history_card(reference: str, entries: Sequence[HistoryEntry], *, owner: str | None,
                 unchanged: int = 0, interview: Interview | None = None) -> dict:
    """The newest entries first, at most 40, saying how many older ones (and saves that changed nothing, folded
    away by the caller) are not shown; for a scheduled interview it leads with the candidate, job, round and
    time, the id in small print."""
    head = header("面评记录", "Assessment history", "blue", subtitle(interview) if interview else reference)
    newest = sorted(entries, key=lambda e: e.at, reverse=True)

    def build(level: int) -> dict:
        changes, names, rows = _LIMITS[level]
        elements: list[Element] = [*about(interview), small_print(interview)] if interview else []
        if owner:
            shown = user_text(owner, names, one_line=True)
            elements.append(note(f"负责人：{shown}", f"Owner: {shown}"))
        if not newest:
            elements.append(text("还没有记录。", "No history yet."))
        for entry in newest[:rows]:
            elements += _entry(entry, changes, names)
        older = len(newest) - rows
        if older > 0:
            elements.append(note(f"另有 {older} 条更早的记录未显示。",
                                 f"{older} older {'entry is' if older == 1 else 'entries are'} not shown."))
        if unchanged:
            elements.append(note(f"另有 {unchanged} 次保存没有改动任何内容，未显示。",
                                 f"{unchanged} {'save' if unchanged == 1 else 'saves'} that changed nothing "
                                 f"{'is' if unchanged == 1 else 'are'} not shown."))
        return card(head, elements)

    return fit(build, len(_LIMITS))


def _entry(entry: HistoryEntry, changes: int, names: int) -> list[Element]:
    """One entry as a sentence (when, who, what), what it changed below in the form's order; Feishu's log id only
    where something went wrong (what support asks for)."""
    actor = user_text(entry.actor, names, one_line=True)
    action = user_text(entry.action, names, one_line=True)
    result = user_text(entry.result, names, one_line=True)
    done_zh, done_en = _DONE.get(entry.action, (action, action))
    tried_zh, tried_en = _TRIED.get(entry.action, (action, action))
    said_zh, said_en = {
        "ok": (f"{actor} {done_zh}", f"{actor} {done_en}"),
        "failed": (f"{actor} {tried_zh}未成功", f"{actor} tried to {tried_en}; it failed"),
        "denied": (f"{actor} 无权{tried_zh}", f"{actor} was not allowed to {tried_en}"),
        "retry": (f"{tried_zh}未成功，自动重试中", f"Could not {tried_en} yet; trying again"),
        "pending": (f"{actor} {tried_zh}（处理中）", f"{actor} is waiting to {tried_en}"),
    }.get(entry.result, (f"{actor} {tried_zh}：{result}", f"{actor} {tried_en}: {result}"))
    stamp = when(entry.at)
    line = text(f"{stamp} · {said_zh}", f"{stamp} · {said_en}",
                color="red" if entry.result in ("failed", "denied") else None)
    zh = [user_text(c[0], changes) for c in entry.changes]
    en = [user_text(c[1], changes) for c in entry.changes]
    if entry.log_id and entry.result != "ok":
        shown = user_text(entry.log_id, 100, one_line=True)
        zh, en = [*zh, f"飞书日志 ID：{shown}"], [*en, f"Feishu log id: {shown}"]
    if not zh or not changes:
        return [line]
    return [line, note(user_text("\n".join(zh), changes * 2), user_text("\n".join(en), changes * 2))]
