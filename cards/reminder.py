"""Cards that bring the work to an interviewer: the reminder after an interview, the daily digest, the inbox.

Cards speak of people: the candidate, the job, the round and the time lead; ids only in small print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cards.elements import Element, button, buttons, card, fit, header, hr, md, note, text, user_text, when

_LIMITS = (40, 20, 10)  # interviews listed in full, fullest first; the rest are counted


@dataclass(frozen=True)
class Interview:
    """One interview as an interviewer's cards show it."""

    key: str  # the bot's key of the assessment the form writes
    assignment: int
    candidate: str
    position: str | None
    round: str | None
    start: datetime
    end: datetime
    submitted: datetime | None = None
    interview_id: str = ""  # Feishu Hire's external interview
    feishu_assessment_id: str | None = None  # Feishu's id of the assessment, once it exists
    form: tuple[str, str] | None = None  # the Hire feedback form it uses (zh, en), where a card names it

    @property
    def reference(self) -> str:
        """The id a person could quote: Feishu's assessment id, or the interview's until it exists."""
        return self.feishu_assessment_id or self.interview_id or self.key


def not_mine_question_card(interview: Interview, *, sure: dict, fill: dict, later: dict) -> dict:
    """"Not my interview" asked once more: the recruiter would be told and the reminders stop."""
    head = header("不是你的面试？", "Not your interview?", "orange", subtitle(interview))
    said = text("确认后，招聘负责人会收到通知，这场面试不再提醒你。",
                "If you confirm, the recruiter is told and you get no more reminders for this interview.")
    elements = [*about(interview), said,
                buttons(button("确认不是我的", "Yes, not mine", sure, "danger"),
                        button("填写反馈", "Fill in feedback", fill, "primary"),
                        button("稍后提醒", "Remind me later", later)),
                small_print(interview)]
    return card(head, elements)


def not_mine_done_card(interview: Interview) -> dict:
    """Confirmed: whose interview it was, and that the recruiter knows."""
    head = header("已记录：不是你的面试", "Noted: not your interview", "grey", subtitle(interview))
    said = text("招聘负责人已收到通知，不会再提醒你。如有误，请联系招聘负责人。",
                "The recruiter has been told; no more reminders. If this was a mistake, tell the recruiter.")
    return card(head, [*about(interview), said, small_print(interview)])


def reminder_card(interview: Interview, *, fill: dict, later: dict, not_mine: dict) -> dict:
    """After an interview: who and when, then Fill in feedback / Remind me later / Not my interview."""
    head = header("请填写面试反馈", "Your interview feedback is due", "orange", subtitle(interview))
    elements = [*about(interview),
                buttons(button("填写反馈", "Fill in feedback", fill, "primary_filled"),
                        button("稍后提醒", "Remind me later", later),
                        button("不是我的面试", "Not my interview", not_mine, "danger_text")),
                small_print(interview)]
    return card(head, elements, summary=(f"请填写 {_name(interview)} 的面试反馈",
                                         f"Feedback due for {_name(interview)}"))


def digest_card(due: Sequence[Interview], *, now: datetime, fill: dict[str, dict]) -> dict:
    """Once a working day: everything still due, longest overdue first, each with its form."""
    head = header(f"还有 {len(due)} 份面试反馈待填写", f"{len(due)} interview feedback forms still due", "orange")

    def build(level: int) -> dict:
        shown = due[:_LIMITS[level]]
        elements: list[Element] = []
        for item in shown:
            elements += [*_line(item, now), button("填写反馈", "Fill in feedback", fill[item.key], "primary")]
        if len(due) > len(shown):
            rest = len(due) - len(shown)
            elements.append(note(f"另有 {rest} 份未列出；发送 /todo 查看全部。",
                                 f"{rest} more not listed; send /todo to see them all."))
        return card(head, elements)

    return fit(build, len(_LIMITS))


def inbox_card(due: Sequence[Interview], today: Sequence[Interview], done: Sequence[Interview], *, now: datetime,
               fill: dict[str, dict]) -> dict:
    """/todo: what is due (overdue first), today's interviews still to come, and the last ones submitted."""
    head = header("我的面试", "My interviews", "blue")

    def build(level: int) -> dict:
        limit = _LIMITS[level]
        elements: list[Element] = [md(f"**待填写（{len(due)}）**", f"**Due ({len(due)})**")]
        if not due:
            elements.append(note("没有待填写的反馈。", "Nothing due."))
        for item in due[:limit]:
            elements += [*_line(item, now), button("填写反馈", "Fill in feedback", fill[item.key], "primary")]
        if len(due) > limit:
            elements.append(note(f"另有 {len(due) - limit} 份未列出。", f"{len(due) - limit} more not listed."))
        if today:
            elements += [hr(), md("**今天稍后**", "**Later today**")]
            elements += [line for item in today[:limit] for line in _line(item, now)]
        if done:
            elements += [hr(), md("**最近提交**", "**Recently submitted**")]
            for item in done[:5]:
                elements += [*_line(item, now), button("查看或修改", "View or edit", fill[item.key])]
        return card(head, elements)

    return fit(build, len(_LIMITS))


def _name(interview: Interview) -> str:
    return user_text(interview.candidate, 40, one_line=True)


def subtitle(interview: Interview) -> str:
    """Candidate · job · round, for a card's header."""
    return " · ".join(p for p in (interview.candidate, interview.position, interview.round) if p)


def about(interview: Interview) -> list[Element]:
    """Who, for what, which round and when: the lines a card about an interview leads with."""
    zh = [f"候选人：{_name(interview)}"]
    en = [f"Candidate: {_name(interview)}"]
    if interview.position:
        zh.append(f"职位：{user_text(interview.position, 60, one_line=True)}")
        en.append(f"Job: {user_text(interview.position, 60, one_line=True)}")
    if interview.round:
        zh.append(f"轮次：{user_text(interview.round, 40, one_line=True)}")
        en.append(f"Round: {user_text(interview.round, 40, one_line=True)}")
    zh.append(f"时间：{when(interview.start)} – {interview.end:%H:%M}")
    en.append(f"Time: {when(interview.start)} – {interview.end:%H:%M}")
    if interview.form is not None:
        zh.append(f"评价表：{user_text(interview.form[0], 60, one_line=True)}")
        en.append(f"Feedback form: {user_text(interview.form[1], 60, one_line=True)}")
    return [text("\n".join(zh), "\n".join(en))]


def _line(item: Interview, now: datetime) -> list[Element]:
    """One interview in a list: who, what, when, and how long ago it ended (or when it starts)."""
    what = " · ".join(user_text(p, 40, one_line=True) for p in (item.candidate, item.position, item.round) if p)
    if item.submitted is not None:
        zh, en = f"已提交 {when(item.submitted)}", f"submitted {when(item.submitted)}"
    elif item.end <= now:
        zh, en = f"面试结束于 {_ago(now - item.end, 'zh')}前", f"ended {_ago(now - item.end, 'en')} ago"
    else:
        zh, en = f"{item.start:%H:%M} 开始", f"starts at {item.start:%H:%M}"
    return [text(what), note(zh, en)]


def _ago(delta, lang: str) -> str:  # type: ignore[no-untyped-def]
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, hours = minutes // 1440, minutes % 1440 // 60
    if lang == "zh":
        return f"{days} 天" if days else f"{hours} 小时" if hours else f"{minutes} 分钟"
    if days:
        return f"{days} day{'s' if days > 1 else ''}"
    if hours:
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def small_print(interview: Interview) -> Element:
    """The id a person could quote, in small print under a card about people."""
    shown = user_text(interview.reference, 80, one_line=True)
    if interview.feishu_assessment_id:
        return note(f"面评 {shown}", f"Assessment {shown}")
    return note(f"面试 {shown}", f"Interview {shown}")


def choices_card(word: str, choices: Sequence[tuple[Interview, dict]]) -> dict:
    """A name that fits several of the person's interviews: each one, with its form; nothing was saved."""
    head = header("是哪一场面试？", "Which interview?", "orange")
    elements: list[Element] = [text(f"“{user_text(word, 40, one_line=True)}”对应多场面试，你输入的内容未保存。"
                                    "请选择一场打开表单，或在命令中改用面评 ID。",
                                    f"'{user_text(word, 40, one_line=True)}' fits several interviews; nothing was "
                                    "saved. Pick one to open its form, or use its assessment id in the command.")]
    for interview, value in choices:
        elements += [*about(interview), small_print(interview),
                     button("打开表单", "Open the form", value, "primary")]
    return card(head, elements)
