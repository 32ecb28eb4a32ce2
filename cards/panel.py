"""The recruiter's cards: a panel's progress, its calibration summary, an interviewer's comments, the /panel list.

They are given a panel already blinded for the person who will read it (bot.panel.view) and show what is in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from bot.assessment import Conclusion
from bot.auth import Sight
from bot.panel import Panel, Seat, Summary
from cards.elements import (
    SHORTENED,
    Element,
    button,
    buttons,
    card,
    header,
    hr,
    md,
    note,
    text,
    too_big_card,
    user_text,
    when,
)
from cards.limits import fits

_PREVIEW = (160, 60, 0)  # characters of each comment shown folded, fullest first
_PAGES = (None, 12, 8, 6, 4, 2)  # dimensions on one page of the summary (None: all)


def _name(seat: Seat, limit: int = 24) -> str:
    return user_text(seat.name, limit, one_line=True)


def _job(panel: Panel) -> str | None:
    """The header's subtitle: the job (its title already names the candidate)."""
    return user_text(panel.position, 60, one_line=True) if panel.position else None


def _about(panel: Panel) -> Element:
    candidate = user_text(panel.candidate, 60, one_line=True)
    position = user_text(panel.position, 60, one_line=True) if panel.position else "—"
    return text(f"候选人：{candidate}\n职位：{position}", f"Candidate: {candidate}\nJob: {position}")


def _status(seat: Seat, now: float, zone: tzinfo) -> tuple[str, str, str | None]:
    """What a seat's line says (zh, en) and its colour."""
    state = seat.status(now)
    if state == "submitted":
        at = when(datetime.fromtimestamp(seat.submitted_at or 0, zone))
        conclusion = seat.assessment.conclusion if seat.assessment is not None else None
        if conclusion is None:
            return f"已提交 {at}", f"submitted {at}", "green"
        return f"已提交 {at} · 结论：{conclusion.zh}", f"submitted {at} · {conclusion.en}", "green"
    if state == "stopped":
        if seat.stopped == "withdrawn":
            return "已撤回（不再参加这场面试）", "withdrawn from the interview", "grey"
        if seat.stopped == "cancelled":
            return "面试已取消", "interview cancelled", "grey"
        return "表示不是自己的面试", "said it was not their interview", "grey"
    at = when(datetime.fromtimestamp(seat.end, zone))
    if state == "due":
        return f"待提交，面试结束于 {at}", f"due since {at}", "red"
    return f"面试将于 {when(datetime.fromtimestamp(seat.start, zone))} 开始", \
        f"upcoming, {when(datetime.fromtimestamp(seat.start, zone))}", None


def progress_card(panel: Panel, *, now: float, zone: tzinfo, nudge: dict | None, summary: dict | None) -> dict:
    """Who has submitted (with their conclusion), who is due since when, who is still to interview."""
    due = panel.due(now)
    template = "green" if panel.complete else "orange" if due else "blue"
    head = header(f"面试进度：{user_text(panel.candidate, 40, one_line=True)}",
                  f"Panel progress: {user_text(panel.candidate, 40, one_line=True)}", template,
                  _job(panel))
    count = len(panel.seats)
    elements: list[Element] = [md(f"**已提交 {panel.submitted}/{count}**",
                                                 f"**Submitted {panel.submitted} of {count}**")]
    for seat in panel.seats:
        zh, en, color = _status(seat, now, zone)
        what = " · ".join(p for p in (_name(seat), user_text(seat.round, 30, one_line=True)) if p)
        elements.append(text(f"{what}：{zh}", f"{what}: {en}", color=color))
    if panel.sight is Sight.OWN:
        elements.append(note("其他面试官的结论在招聘负责人共享汇总之前不会显示。",
                             "Other interviewers' conclusions stay hidden until the recruiter shares the summary."))
    if panel.state.nudged_at is not None:
        at = when(datetime.fromtimestamp(panel.state.nudged_at, zone))
        elements.append(note(f"上次催办：{at}", f"Last nudged: {at}"))
    actions = []
    if nudge is not None and due:
        actions.append(button("提醒未提交的面试官", "Remind the missing ones", nudge, "primary"))
    if summary is not None and panel.submitted:
        actions.append(button("校准汇总", "Calibration summary", summary))
    if actions:
        elements.append(buttons(*actions))
    elements.append(note(f"申请 {panel.application_id}", f"Application {panel.application_id}"))
    built = card(head, elements, summary=(f"{panel.candidate}：已提交 {panel.submitted}/{count}",
                                          f"{panel.candidate}: {panel.submitted} of {count} submitted"))
    return built if fits(built) else too_big_card(head)


def _tally(panel: Panel, summary: Summary) -> list[Element]:
    parts = [(c.zh, c.en, summary.tally[c]) for c in (Conclusion.PASS, Conclusion.FAIL, Conclusion.PENDING)
             if c in summary.tally]
    missing = len(panel.seats) - panel.submitted
    zh = " · ".join(f"{z} {n}" for z, _, n in parts) or "暂无结论"
    en = " · ".join(f"{e} {n}" for _, e, n in parts) or "no conclusions yet"
    if missing:
        zh, en = f"{zh} · 未提交 {missing}", f"{en} · not submitted {missing}"
    found = [md(f"**结论**：{zh}", f"**Conclusions**: {en}")]
    if summary.mixed:
        found.append(text("⚠ 结论不一致：有人通过，有人不通过。", "⚠ Split decision: some pass, some fail.",
                          color="red"))
    return found


def summary_card(panel: Panel, summary: Summary, *, page: int, zone: tzinfo, share: dict | None,
                 comment: Callable[[Seat], dict], turn: Callable[[int], dict]) -> dict:
    """Conclusions tallied, dimensions by interviewer (splits in red), comments folded with a button each.

    A panel too large for one card is shown in pages of dimensions, and the card says so.
    """
    head = header(f"校准汇总：{user_text(panel.candidate, 40, one_line=True)}",
                  f"Calibration summary: {user_text(panel.candidate, 40, one_line=True)}",
                  "red" if summary.mixed or summary.splits else "green", _job(panel))
    for per_page in _PAGES:
        for preview in _PREVIEW:
            built = _summary(head, panel, summary, page, per_page, preview, zone, share, comment, turn)
            if fits(built):
                return built
    return too_big_card(head)


def _summary(head: dict, panel: Panel, summary: Summary, page: int, per_page: int | None, preview: int,
             zone: tzinfo, share: dict | None, comment: Callable[[Seat], dict], turn: Callable[[int], dict]) -> dict:
    rows = summary.rows
    pages = 1 if per_page is None else max(1, -(-len(rows) // per_page))
    page = min(max(page, 0), pages - 1)
    shown = rows if per_page is None else rows[page * per_page:(page + 1) * per_page]
    elements: list[Element] = []
    if preview < _PREVIEW[0]:
        elements.append(note(*SHORTENED))
    elements += _tally(panel, summary)
    if summary.splits:
        names = "、".join(r.title for r in summary.splits)
        names_en = ", ".join(r.title_en for r in summary.splits)
        elements.append(text(f"⚠ 评分分歧（相差 2 分及以上）：{names}", f"⚠ Scores 2 or more apart: {names_en}",
                             color="red"))
    elements += [hr(), md("**各维度评分**", "**Dimensions by interviewer**")]
    if pages > 1:
        elements.append(note(f"第 {page + 1}/{pages} 页：维度较多，分页显示。",
                             f"Page {page + 1} of {pages}: too many dimensions for one card."))
    names = [_name(s) for s in panel.seats]
    for row in shown:
        mark = f" ⚠ 相差 {row.spread}" if row.split else ""
        mark_en = f" ⚠ {row.spread} apart" if row.split else ""
        elements.append(text(f"{row.title}{mark}", f"{user_text(row.title_en, 40)}{mark_en}",
                             color="red" if row.split else None))
        cells = " · ".join(f"{n} {user_text(c, 20, one_line=True)}" for n, c in zip(names, row.cells, strict=True))
        elements.append(note(cells))
    if pages > 1:
        turns = []
        if page > 0:
            turns.append(button("上一页", "Previous page", turn(page - 1)))
        if page < pages - 1:
            turns.append(button("下一页", "Next page", turn(page + 1)))
        elements.append(buttons(*turns))
    if summary.comments:
        elements += [hr(), md("**评语**", "**Comments**")]
        for seat, said in summary.comments:
            folded = user_text(said, preview, one_line=True) if preview else ""
            elements.append(text(_name(seat) + (f"：{folded}" if folded else ""),
                                 _name(seat) + (f": {folded}" if folded else "")))
            elements.append(button("查看全文", "Read in full", comment(seat)))
    elements.append(hr())
    if panel.state.shared_at is not None:
        at = when(datetime.fromtimestamp(panel.state.shared_at, zone))
        elements.append(note(f"已于 {at} 共享给面试官。", f"Shared with the panel at {at}."))
    elif share is not None:
        elements += [note("面试官在共享之前看不到彼此的结论。",
                          "Interviewers cannot see each other's feedback until shared."),
                     buttons(button("共享给面试官", "Share with the panel", share))]
    elements.append(note(f"申请 {panel.application_id}", f"Application {panel.application_id}"))
    return card(head, elements)


def comment_card(panel: Panel, seat: Seat, said: str) -> dict:
    """One interviewer's comments in full (as much as a card holds)."""
    head = header(f"评语：{_name(seat)}", f"Comments: {_name(seat)}", "blue",
                  " · ".join(p for p in (panel.candidate, panel.position) if p))
    for limit in (8000, 4000, 1000):
        built = card(head, [_about(panel), text(user_text(said, limit))])
        if fits(built):
            return built
    return too_big_card(head)


def panels_card(panels: Sequence[Panel], *, now: float, open_value: Callable[[Panel], dict]) -> dict:
    """/panel: the person's open applications with their progress, each with its summary."""
    head = header("候选人面试进度", "Your candidates' panels", "blue")
    elements: list[Element] = []
    if not panels:
        elements.append(text("没有进行中的候选人面试。", "No open panels."))
    for level, limit in enumerate((30, 15, 8)):
        shown = panels[:limit]
        elements = [] if panels else elements
        for panel in shown:
            due = len(panel.due(now))
            what = " · ".join(user_text(p, 40, one_line=True) for p in (panel.candidate, panel.position) if p)
            elements += [text(what), note(f"已提交 {panel.submitted}/{len(panel.seats)} · 待提交 {due}",
                                          f"{panel.submitted} of {len(panel.seats)} submitted · {due} due"),
                         button("查看汇总", "Open summary", open_value(panel))]
        if len(panels) > len(shown):
            rest = len(panels) - len(shown)
            elements.append(note(f"另有 {rest} 位候选人未列出；发送 /panel <候选人> 查看。",
                                 f"{rest} more not listed; send /panel <candidate>."))
        built = card(head, [note(*SHORTENED), *elements] if level else elements)
        if fits(built) or not panels:
            return built
    return too_big_card(head)
