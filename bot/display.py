"""How the bot shows what it knows on cards: times in the deployment's zone, people by name, interviews, the form.

Names come from the database's cache while Feishu waits for an answer (nothing but the database is called then);
a job may also ask Feishu (`Names(ctx, live=True)`) and keeps what it learns for the next request.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import auth, panel
from bot.actions import Nudge, OpenComment, OpenForm, Share, ShowSummary
from bot.assessment import Assessment, as_raw
from bot.contract import LearnNames, NewJob, Write
from cards.confirmation import unchanged_card
from cards.form import form_card
from cards.panel import progress_card, summary_card
from cards.reminder import Interview

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.rubric import Rubric
    from bot.services import Context
    from bot.settings import Settings
    from bot.store import Assignment

HELD_UNKNOWN = ("机器人没有这份面评的记录，看不到飞书中已填写的内容："
                "提交后，这里的结论、各维度和评语会替换飞书中的内容。",
                "The bot has no record of this assessment and cannot see what Feishu holds: submitting replaces "
                "Feishu's conclusion, dimensions and comment with what is filled in here.")
HELD_UNREAD = ("暂时无法读取飞书中这份面评已填写的内容，表单未预填："
               "提交后，这里的内容会替换飞书中的内容。也可以稍后重新打开表单。",
               "Could not read what Feishu holds for this assessment just now, so the form is not prefilled: "
               "submitting replaces Feishu's values with what is filled in here. Or open the form again later.")
NAMES_FRESH = 30 * 24 * 3600.0  # a job asks Feishu again for a name older than this (people rename rarely)


@lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone(settings: Settings) -> tzinfo:
    """The deployment's time zone (ASSESSBOT_TIMEZONE; UTC if the name is unknown)."""
    return _zone(settings.assessbot_timezone)


def when(ctx: Context, at: float) -> datetime:
    """A timestamp in the deployment's time zone, for cards."""
    return datetime.fromtimestamp(at, zone(ctx.settings))


class Names:
    """People as cards name them: their Feishu name, else their open_id.

    At request time only the database's cache is read; the people it does not know are noted, and `learn()`
    gives the job that looks them up for next time. In a job (`live`) a name missing or old is asked of Feishu.
    """

    def __init__(self, ctx: Context, *, live: bool = False):
        self.ctx, self.live = ctx, live
        self._known: dict[str, str | None] = {}
        self.missing: list[str] = []

    def __call__(self, open_id: str) -> str:
        return self.known(open_id) or open_id

    def known(self, open_id: str) -> str | None:
        """The person's name, or None when it is not known (yet)."""
        if open_id not in self._known:
            self._known[open_id] = self._look_up(open_id)
        return self._known[open_id]

    def _look_up(self, open_id: str) -> str | None:
        if not open_id.startswith("ou_"):
            return None
        store = self.ctx.store
        since = self.ctx.clock() - NAMES_FRESH if self.live else 0.0
        cached = store.names([open_id], since)
        if open_id in cached:
            return cached[open_id]
        if not self.live:
            self.missing.append(open_id)
            return None
        name = self.ctx.feishu.user_name(open_id)
        if name is not None:
            store.remember_names({open_id: name})
        return name

    def learn(self) -> list[NewJob]:
        """The job that looks up the people this request could not name (none when it named everyone)."""
        return [NewJob(LearnNames(people=sorted(set(self.missing))))] if self.missing else []


def interview_view(ctx: Context, assignment: Assignment) -> Interview:
    """An assignment as an interviewer's cards show it, in the deployment's time zone."""
    return Interview(key=assignment.key, assignment=assignment.id, candidate=assignment.candidate,
                     position=assignment.position, round=assignment.round, start=when(ctx, assignment.start_at),
                     end=when(ctx, assignment.end_at),
                     submitted=when(ctx, assignment.submitted_at) if assignment.submitted_at else None,
                     interview_id=assignment.interview_id, feishu_assessment_id=assignment.feishu_assessment_id)


def interview_for(ctx: Context, key: str) -> Interview | None:
    """The scheduled interview an assessment belongs to, as cards show it (None: an id with no assignment)."""
    assignment = ctx.store.assignment(key)
    return interview_view(ctx, assignment) if assignment is not None else None


def form_for(ctx: Context, key: str, opened_for: str, nonce: str, *, draft_job: int | None = None,
             names: Callable[[str], str | None] | None = None, rubric: Rubric | None = None,
             notice: tuple[str, str] | None = None) -> dict:
    """The form card for one person, with the assessment's rubric (`rubric`: as the caller chose it): the last
    known values, a kept draft on top, their name as a default (when `names` knows it); `notice` (zh, en) says
    what the form could not know."""
    rubric = rubric or ctx.forms.rubric_for(key)
    known = ctx.store.known(key)
    state, interview = known.state, interview_for(ctx, key)
    if notice is None and known.applied_version == 0 and interview is None:
        notice = HELD_UNKNOWN  # an assessment made outside the bot, named by its id: Feishu's values are unknown
    if draft_job is not None:
        row = ctx.store.job(draft_job)
        if row and row["assessment_key"] == key and isinstance(row["payload"], Write):
            state = row["payload"].submission.merged_into(state)
    hint = None
    if names is not None and state.username is None:
        hint = names.known(opened_for) if isinstance(names, Names) else names(opened_for)
    return form_card(key, rubric, as_raw(state),
                     submit_value=auth.sign_form(ctx.settings, key, opened_for, nonce,
                                                 rubric.id if rubric.hire else None).encode(),
                     interviewer_hint=hint, interview=interview, notice=notice)


def held_misfits(count: int) -> tuple[str, str]:
    """The form's notice when some of Feishu's values fit none of its questions."""
    return (f"飞书中这份面评有 {count} 项不属于这张评价表，未显示；提交后飞书中只保留表单中的各项。",
            f"{count} of the values Feishu holds for this assessment are not questions of this form and are not "
            "shown; submitting keeps only the form's.")


def reads_back(ctx: Context, key: str, applied_version: int) -> bool:
    """Whether opening the form must first read what Feishu holds: an assessment there the bot never wrote."""
    if applied_version > 0:
        return False
    assignment = ctx.store.assignment(key)
    return assignment is not None and bool(assignment.feishu_assessment_id and assignment.interview_id)


def unchanged_for(ctx: Context, key: str, state: Assessment, rubric: Rubric, names: Callable[[str], str]) -> dict:
    """"Nothing changed": what is saved, with who submitted it and when (the last write's), and the interview."""
    last = ctx.store.last_write(key)
    interview = interview_for(ctx, key)
    by, at = (names(last.actor), last.at) if last is not None else ("-", ctx.clock())
    return unchanged_card(interview.reference if interview else key, state, rubric, by=by, at=when(ctx, at),
                          edit_value=OpenForm(key).encode(), interview=interview)


def summary_for(ctx: Context, found: panel.Panel, viewer: str, page: int = 0) -> dict | None:
    """The calibration summary card as `viewer` may see it (None: not at all)."""
    seen = panel.view(ctx.settings, viewer, found)
    if seen is None:
        return None
    manage = auth.may_manage_panel(ctx.settings, viewer, found.recruiters).allowed
    return summary_card(seen, panel.summarise(seen, lambda seat: ctx.forms.rubric_for(seat.key)), page=page,
                        zone=zone(ctx.settings),
                        share=Share(found.application_id).encode() if manage else None,
                        comment=lambda seat: OpenComment(seat.assignment).encode(),
                        turn=lambda n: ShowSummary(found.application_id, n).encode())


def progress_for(ctx: Context, found: panel.Panel, viewer: str) -> dict | None:
    """The progress card as `viewer` may see it (None: not at all)."""
    seen = panel.view(ctx.settings, viewer, found)
    if seen is None:
        return None
    manage = auth.may_manage_panel(ctx.settings, viewer, found.recruiters).allowed
    return progress_card(seen, now=ctx.clock(), zone=zone(ctx.settings),
                         nudge=Nudge(found.application_id).encode() if manage else None,
                         summary=ShowSummary(found.application_id, fresh=True).encode())
