"""/assign: an admin or a scheduler puts one interviewer on one external interview from the chat (the schedule's
third way in), or cancels an interview (`/assign <interview_id> cancel`, or one interviewer's part in it with
`@interviewer cancel`).

The fields are the schedule file's, read by the same validation. `start` may be left out: the interview is then
taken to have lasted an hour before `end`. A time without a date is today's, in ASSESSBOT_TIMEZONE. Unlike a file,
/assign adds one interviewer and withdraws nobody; naming someone withdrawn or cancelled puts them back.
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
from bot.contract import Purpose
from bot.rubric import Rubric
from bot.schedule.intake import as_row, form_choice, stop_words, unknown_form
from bot.schedule.model import Invalid, is_cancelled, read_id, read_time
from bot.schedule.planner import Planner, status_jobs
from bot.schedule.validation import field_of, validate_records
from bot.store.schedule import CANCELLED, Stopped, external_id
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
    """Add or change one assignment: who interviews whom, and when it ends; or cancel an interview (admins and
    schedulers)."""

    name: ClassVar[str] = "assign"
    aliases: ClassVar[tuple[str, ...]] = ("安排",)
    usage: ClassVar[str] = ("/assign <interview_id> @interviewer candidate=<name> end=<time> [start=<time>] "
                            "[job=…] [round=…] [form=…] [recruiter=@someone] [application_id=…] [assessment_id=…] | "
                            "/assign <interview_id> [@interviewer] cancel")
    summary_zh: ClassVar[str] = ("（管理员和排期人员）安排一位面试官参加一场外部面试，"
                                 "面试结束后机器人会提醒 TA 填写反馈。"
                                 "时间写作 2026-12-07 15:00（只写 15:00 即今天）；不写开始时间则按结束前 1 小时。"
                                 "写 cancel（取消）则取消这场面试（或只取消 @ 的面试官），提醒随之停止。")
    summary_en: ClassVar[str] = ("(Admins and schedulers) Put an interviewer on an external interview; the bot reminds "
                                 "them to give feedback after it ends. Times as 2026-12-07 15:00 (15:00 alone is "
                                 "today); without start, the interview is taken to start an hour before its end. "
                                 "With cancel, the interview (or the @interviewer's part in it) is cancelled and its "
                                 "reminders stop.")
    examples: ClassVar[tuple[str, ...]] = (
        "/assign 7412358746023518273 @李娜 candidate=张伟 end=2026-12-07 15:00 job=后端工程师 round=技术一面",
        "/安排 7412358746023518273 @李娜 候选人=张伟 开始时间=14:00 结束时间=15:00",
        "/assign 7412358746023518274 @李娜 candidate=王芳 end=16:00 job=销售经理 form=销售岗位面评表",
        "/assign 7412358746023518273 cancel",
    )

    values: tuple[tuple[str, str], ...]  # (field, value) as typed; people already open_ids
    columns: tuple[tuple[str, str], ...] = ()  # (field, the word the person used for it)
    cancel: bool = False  # cancel the interview (or, with an interviewer, their part in it)

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
        cancel = False
        for token in found[1:]:
            if (token.key is None and is_cancelled(token.value)) or (token.key is not None
                                                                     and field_of(token.key) == "status"):
                if token.key is not None and not is_cancelled(token.value):
                    raise Wrong(f"{token.key}= 只能是 cancelled（已取消）。", f"{token.key}= can only be cancelled.")
                cancel = True
                continue
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
        if cancel:
            extra = [columns.get(f, f) for f in values if f not in ("interview_id", "interviewer")]
            if extra:
                raise Wrong(f"取消面试时只需面试 ID（和要取消的 @面试官），不需要“{snippet(extra[0])}”。",
                            f"To cancel, give only the interview id (and the @interviewer whose part is cancelled), "
                            f"not '{snippet(extra[0])}'.")
            return cls(values=tuple(values.items()), columns=tuple(columns.items()), cancel=True)
        for field, zh, en in (("interviewer", "面试官（@某人）", "interviewer (@someone)"),
                              ("candidate", "候选人（candidate=…）", "candidate (candidate=…)"),
                              ("end", "结束时间（end=…）", "end time (end=…)")):
            if field not in values:
                raise Wrong(f"缺少{zh}。", f"The {en} is missing.")
        return cls(values=tuple(values.items()), columns=tuple(columns.items()))

    def handle(self, req: Request) -> Outcome:
        ctx = req.ctx
        decision = req.may_schedule(auth.CANCEL if self.cancel else auth.ASSIGN)
        if not decision.allowed:
            denied = req.deny(None, "cancel" if self.cancel else "assign", decision)
            denied.jobs += req.learn_schedulers()  # a scheduler named by email, not looked up yet: next time
            return denied
        if self.cancel:
            return self._cancel(req)
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
        chosen = ctx.forms.find(assignment.form) if assignment.form else None
        if assignment.form and chosen is None:
            zh, en = unknown_form(assignment.form, ctx.forms)
            name = dict(self.columns).get("form", "form")
            card = error_cards.problem_card(f"{name}：{zh}", f"{name}: {en}", usage_zh=self.usage, usage_en=self.usage)
            return Outcome(jobs=[req.send(card, Purpose.PROBLEM)])
        row = as_row(assignment, {}, form_choice(assignment.form, chosen) if assignment.form and chosen else None)
        before = [a for a in ctx.store.find_assignments(assignment.interview_id, row["interviewer"])
                  if a.interview_id == assignment.interview_id]
        key = before[0].key if before else (assignment.feishu_assessment_id or external_id(*assignment.key))
        audit = {"actor": req.actor, "assessment_key": key, "action": "assign", "result": "ok",
                 "detail": {"interview_id": assignment.interview_id, "interviewer": row["interviewer"],
                            "change": "updated" if before else "new"}}
        card = _assigned_card(assignment.candidate, assignment.position, assignment.round,
                              assignment.start.astimezone(zone), assignment.end.astimezone(zone),
                              ctx.settings.assessbot_remind_after_minutes, updated=bool(before), form=chosen)
        return Outcome(jobs=[req.send(card, Purpose.MESSAGE)], audits=[audit], new_assignments=[row],
                       plan=Planner(ctx.settings, now))


    def _cancel(self, req: Request) -> Outcome:
        """Stop the interview's assignments (or the one interviewer's) that are still running, audited."""
        given = dict(self.values)
        interview, person = given["interview_id"], given.get("interviewer")
        found = sorted((a for a in req.ctx.store.find_assignments(interview) if a.interview_id == interview
                        and (person is None or a.interviewer == person)), key=lambda a: a.id)
        running = [a for a in found if a.stopped is None]
        if not found:
            whose_zh = f"（{req.names(person)}）" if person else ""
            whose_en = f" with {req.names(person)}" if person else ""
            card = text_card(f"日程中没有面试 {interview}{whose_zh}，没有取消任何内容。",
                             f"There is no interview {interview}{whose_en} in the schedule; nothing was cancelled.",
                             "orange")
            return Outcome(jobs=[req.send(card, Purpose.MESSAGE)])
        if not running:
            card = text_card(f"面试 {interview}（{found[0].candidate}）的提醒已经停止（已取消、已撤回或不是本人面试），"
                             "没有改动。",
                             f"Interview {interview} ({found[0].candidate}) has no reminders running (cancelled, "
                             "withdrawn or not theirs); nothing changed.", "grey")
            return Outcome(jobs=[req.send(card, Purpose.MESSAGE)])
        stopped = [Stopped(a.id, a.interview_id, a.interviewer, a.candidate, CANCELLED, a.submitted_at is not None,
                           a.feishu_assessment_id) for a in running]
        words = [stop_words(s, req.names(s.interviewer)) for s in stopped]
        card = text_card("\n".join(zh for zh, _ in words), "\n".join(en for _, en in words), "green")
        audits = [{"actor": req.actor, "assessment_key": a.key, "action": "cancel", "result": "ok",
                   "detail": {"interview_id": a.interview_id, "interviewer": a.interviewer,
                              "feedback_written": a.submitted_at is not None}} for a in running]
        return Outcome(jobs=[req.send(card, Purpose.MESSAGE), *status_jobs(running)], audits=audits,
                       assignment_updates=[(a.id, {"stopped": CANCELLED, "remind_at": None}) for a in running])


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


def _assigned_card(candidate: str, position: str | None, round: str | None, start: datetime, end: datetime,
                   delay: int, *, updated: bool, form: Rubric | None = None) -> dict:
    """The admin's answer: what was scheduled, and when the interviewer will hear of it."""
    what = " · ".join(part for part in (position, round) if part)
    span = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date() else \
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    about = f"{candidate}（{what}）" if what else candidate
    about_en = f"{candidate} ({what})" if what else candidate
    verb_zh, verb_en = ("已更新", "Updated") if updated else ("已安排", "Assigned")
    form_zh = f"评价表：{form.name}。" if form is not None else ""
    form_en = f" Feedback form: {form.label_en}." if form is not None else ""
    return text_card(f"{verb_zh}：{about}，{span}。{form_zh}"
                     f"面试结束 {delay} 分钟后（工作时间内）会提醒面试官填写反馈。",
                     f"{verb_en}: {about_en}, {span}.{form_en} The interviewer will be reminded to give feedback "
                     f"{delay} minutes after the end, in working time.", "green")
