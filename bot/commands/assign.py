"""/assign: an admin puts one interviewer on one external interview from the chat (the schedule's third way in).

The fields are the schedule file's, read by the same validation. `start` may be left out: the interview is then
taken to have lasted an hour before `end`. A time without a date is today's, in ASSESSBOT_TIMEZONE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from bot import auth
from bot.commands.base import Command, Outcome, Request, Wrong
from bot.commands.grammar import MENTION, Token, snippet, tokens
from bot.commands.registry import command
from bot.jobs.delivery import Purpose
from bot.jobs.remind import Planner
from bot.rubric import Rubric
from bot.schedule.intake import as_row
from bot.schedule.model import Invalid, read_id, read_time
from bot.schedule.validation import field_of, validate_records
from bot.store.schedule import external_id
from cards import errors as error_cards
from cards.notice import text_card

DEFAULT_LENGTH = timedelta(hours=1)  # an interview given only its end is taken to have lasted this long
_OPEN_ID = re.compile(r"ou_[0-9A-Za-z]{1,64}")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_PEOPLE = ("interviewer", "recruiter")


@command
@dataclass(frozen=True)
class Assign(Command):
    """Add or change one assignment: who interviews whom, and when it ends (admins only)."""

    name: ClassVar[str] = "assign"
    aliases: ClassVar[tuple[str, ...]] = ("安排",)
    usage: ClassVar[str] = ("/assign <interview_id> @interviewer candidate=<name> end=<time> [start=<time>] "
                            "[job=…] [round=…] [recruiter=@someone] [application_id=…] [assessment_id=…]")
    summary_zh: ClassVar[str] = ("（管理员）安排一位面试官参加一场外部面试，面试结束后机器人会提醒 TA 填写反馈。"
                                 "时间写作 2026-12-07 15:00（只写 15:00 即今天）；不写开始时间则按结束前 1 小时。")
    summary_en: ClassVar[str] = ("(Admins) Put an interviewer on an external interview; the bot reminds them to give "
                                 "feedback after it ends. Times as 2026-12-07 15:00 (15:00 alone is today); without "
                                 "start, the interview is taken to start an hour before its end.")
    examples: ClassVar[tuple[str, ...]] = (
        "/assign 7412358746023518273 @李娜 candidate=张伟 end=2026-12-07 15:00 job=后端工程师 round=技术一面",
        "/安排 7412358746023518273 @李娜 候选人=张伟 开始时间=14:00 结束时间=15:00",
    )

    values: tuple[tuple[str, str], ...]  # (field, value) as typed; people already open_ids
    columns: tuple[tuple[str, str], ...] = ()  # (field, the word the person used for it)

    @classmethod
    def read(cls, args: str, mentions: Mapping[str, str], rubric: Rubric | None) -> Assign:
        found = _joined(tokens(args))
        if not found or found[0].key is not None:
            raise Wrong("缺少面试 ID（紧跟在命令后面）。",
                        "The interview id is missing (it comes right after the command).")
        try:
            values: dict[str, str] = {"interview_id": read_id(found[0].value)}
        except Invalid as exc:
            raise Wrong(f"面试 ID {exc.zh}", f"The interview id {exc.en}") from None
        columns: dict[str, str] = {}
        for token in found[1:]:
            if token.key is None:
                if "interviewer" in values:
                    raise Wrong(f"无法识别“{snippet(token.text)}”；各项请写成 名称=值。",
                                f"'{snippet(token.text)}' is not understood; write fields as name=value.")
                field, columns["interviewer"] = "interviewer", "@"
            else:
                field = field_of(token.key) or ""
                if field in ("", "interview_id"):
                    raise Wrong(f"没有“{snippet(token.key)}”这一项。",
                                f"There is no field '{snippet(token.key)}'.")
                if field in values:
                    raise Wrong(f"“{snippet(token.key)}”给了两次。", f"'{snippet(token.key)}' is given twice.")
                columns[field] = token.key
            values[field] = _person(token, mentions) if field in _PEOPLE else token.value
        for field, zh, en in (("interviewer", "面试官（@某人）", "interviewer (@someone)"),
                              ("candidate", "候选人（candidate=…）", "candidate (candidate=…)"),
                              ("end", "结束时间（end=…）", "end time (end=…)")):
            if field not in values:
                raise Wrong(f"缺少{zh}。", f"The {en} is missing.")
        return cls(values=tuple(values.items()), columns=tuple(columns.items()))

    def handle(self, req: Request) -> Outcome:
        ctx = req.ctx
        decision = auth.may_assign(ctx.settings, req.actor)
        if not decision.allowed:
            return req.deny(None, "assign", decision)
        zone, now = ZoneInfo(ctx.settings.assessbot_timezone), ctx.clock()
        record: dict[str, object] = dict(self.values)
        today = datetime.fromtimestamp(now, zone)
        for field in ("start", "end"):
            if isinstance(record.get(field), str) and _CLOCK.fullmatch(str(record[field])):
                record[field] = f"{today:%Y-%m-%d} {record[field]}"
        if "start" not in record:
            try:
                record["start"] = read_time(record["end"], zone) - DEFAULT_LENGTH
            except Invalid:
                record["start"] = record["end"]  # the end's own problem is reported below
        assignments, problems = validate_records([record], zone)
        given = dict(self.values)
        errors = [p for p in problems if not p.warning and (p.field != "start" or "start" in given)]
        if errors or not assignments:
            names = dict(self.columns)
            zh = "\n".join(f"{names.get(p.field or '', p.column)}：{p.zh}" for p in errors)
            en = "\n".join(f"{names.get(p.field or '', p.column)}: {p.en}" for p in errors)
            card = error_cards.problem_card(zh, en, usage_zh=self.usage, usage_en=self.usage)
            return Outcome(jobs=[req.send(card, Purpose.PROBLEM)])
        assignment = assignments[0]
        row = as_row(assignment, {})
        before = [a for a in ctx.store.find_assignments(assignment.interview_id, row["interviewer"])
                  if a.interview_id == assignment.interview_id]
        key = before[0].key if before else (assignment.assessment_id or external_id(*assignment.key))
        audit = {"actor": req.actor, "assessment_id": key, "action": "assign", "result": "ok",
                 "detail": {"interview_id": assignment.interview_id, "interviewer": row["interviewer"],
                            "change": "updated" if before else "new"}}
        card = _assigned_card(assignment.candidate, assignment.job, assignment.round,
                              assignment.start.astimezone(zone), assignment.end.astimezone(zone),
                              ctx.settings.assessbot_remind_after_minutes, updated=bool(before))
        return Outcome(jobs=[req.send(card, Purpose.MESSAGE)], audits=[audit], new_assignments=[row],
                       plan=Planner(ctx.settings, now))


def _joined(found: list[Token]) -> list[Token]:
    """`end=2026-12-07 15:00` typed without quotes: the clock time (read as `15`=`00`) joins the date before it."""
    joined: list[Token] = []
    for token in found:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.key is not None and _DATE.fullmatch(previous.value)
                and _CLOCK.fullmatch(token.text)):
            joined[-1] = Token(previous.key, f"{previous.value} {token.text}", f"{previous.text} {token.text}")
        else:
            joined.append(token)
    return joined


def _person(token: Token, mentions: Mapping[str, str]) -> str:
    """An @mention (or an open_id) as an open_id."""
    if MENTION.fullmatch(token.value) and mentions.get(token.value):
        return mentions[token.value]
    if _OPEN_ID.fullmatch(token.value):
        return token.value
    if token.key is None:
        raise Wrong(f"面试官请用 @ 指定（或写 open_id），而不是“{snippet(token.text)}”。",
                    f"Name the interviewer with an @mention (or an open_id), not '{snippet(token.text)}'.")
    raise Wrong(f"{token.key}= 后面需要 @ 一个人（或写 open_id）。", f"{token.key}= needs an @mention (or an open_id).")


def _assigned_card(candidate: str, job: str | None, round: str | None, start: datetime, end: datetime, delay: int,
                   *, updated: bool) -> dict:
    """The admin's answer: what was scheduled, and when the interviewer will hear of it."""
    what = " · ".join(part for part in (job, round) if part)
    span = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date() else \
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    about = f"{candidate}（{what}）" if what else candidate
    about_en = f"{candidate} ({what})" if what else candidate
    verb_zh, verb_en = ("已更新", "Updated") if updated else ("已安排", "Assigned")
    return text_card(f"{verb_zh}：{about}，{span}。面试结束 {delay} 分钟后（工作时间内）会提醒面试官填写反馈。",
                     f"{verb_en}: {about_en}, {span}. The interviewer will be reminded to give feedback {delay} "
                     "minutes after the end, in working time.", "green")
