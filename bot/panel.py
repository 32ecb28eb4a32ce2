"""A candidate's panel (the interviews of one application) as the bot shows it, blinded for whoever looks.

Every view of a panel — the progress card, the calibration summary, /panel, a comment opened in full — is built
from `view()`, which asks `auth.may_see_panel` once and drops what the person may not see: a card cannot show
a value that is not in the panel it was given. People are named by the `names` a caller passes: the cache at
request time, Feishu too in a job (bot/display.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import auth
from bot.assessment import Assessment, Conclusion
from bot.rubric import Dimension, DimensionType, Rubric, Value, fold
from bot.store import Assignment, PanelState
from bot.values import number, shown

if TYPE_CHECKING:
    from bot.services import Context
    from bot.settings import Settings

SPREAD = 2  # a score dimension whose scores differ by this much or more is a disagreement
NUDGE_EVERY = 3600.0  # one "remind the missing ones" an hour per application


@dataclass(frozen=True)
class Seat:
    """One interviewer on the panel; `assessment` is None when not submitted or hidden from the viewer."""

    assignment: int
    key: str
    interviewer: str
    name: str
    round: str | None
    start: float
    end: float
    submitted_at: float | None
    stopped: str | bool | None  # why its reminders stopped: not_mine, withdrawn or cancelled (None/False: running)
    assessment: Assessment | None = None

    def status(self, now: float) -> str:
        """submitted, stopped (not theirs), due (ended, no feedback) or upcoming."""
        if self.submitted_at is not None:
            return "submitted"
        if self.stopped:
            return "stopped"
        return "due" if self.end <= now else "upcoming"


@dataclass(frozen=True)
class Panel:
    """One application's interviews: who is on it, what they submitted (as far as the viewer may see)."""

    application_id: str
    candidate: str
    position: str | None
    recruiters: tuple[str, ...]
    seats: tuple[Seat, ...]
    state: PanelState
    sight: auth.Sight = auth.Sight.ALL

    @property
    def interviewers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.interviewer for s in self.seats))

    @property
    def first_end(self) -> float:
        return min(s.end for s in self.seats)

    @property
    def submitted(self) -> int:
        return sum(1 for s in self.seats if s.submitted_at is not None)

    @property
    def complete(self) -> bool:
        """Everyone who held an interview has submitted (and someone has)."""
        return self.submitted > 0 and all(s.submitted_at is not None or s.stopped for s in self.seats)

    def due(self, now: float) -> tuple[Seat, ...]:
        return tuple(s for s in self.seats if s.status(now) == "due")


def load(ctx: Context, application_id: str, names: Callable[[str], str]) -> Panel | None:
    """The whole panel, as the recruiter sees it; None for an unknown application."""
    rows = ctx.store.application(application_id)
    if not rows:
        return None
    return build(rows, ctx.store.panel_state(application_id), lambda key: ctx.store.known(key).state, names)


def build(rows: list[Assignment], state: PanelState, known: Callable[[str], Assessment],
          name: Callable[[str], str]) -> Panel:
    """A panel from its assignments, the known assessments (by key) and people's names (pure but for those)."""
    seats = tuple(Seat(a.id, a.key, a.interviewer, name(a.interviewer), a.round, a.start_at, a.end_at, a.submitted_at,
                       a.stopped, known(a.key) if a.submitted_at is not None else None) for a in rows)
    recruiters = tuple(dict.fromkeys(a.recruiter for a in rows if a.recruiter))
    return Panel(rows[0].application_id or "", rows[0].candidate, rows[0].position, recruiters, seats, state)


def view(settings: Settings, actor: str, panel: Panel) -> Panel | None:
    """The panel as `actor` may see it (the blind rule): None when not at all, others' values dropped when only
    their own."""
    sight = auth.may_see_panel(settings, actor, recruiters=panel.recruiters, interviewers=panel.interviewers,
                               shared=panel.state.shared_at is not None)
    if sight is auth.Sight.NONE:
        return None
    if sight is auth.Sight.OWN:
        seats = tuple(s if s.interviewer == actor else replace(s, assessment=None) for s in panel.seats)
        return replace(panel, seats=seats, sight=sight)
    return replace(panel, sight=sight)


@dataclass(frozen=True)
class Row:
    """One dimension across the panel: a cell per seat ("—" for none), and whether it splits the panel."""

    key: str
    title: str
    title_en: str
    cells: tuple[str, ...]
    spread: int | None = None

    @property
    def split(self) -> bool:
        return self.spread is not None and self.spread >= SPREAD


@dataclass(frozen=True)
class Summary:
    """The calibration summary: conclusions tallied, dimensions by interviewer, comments by interviewer."""

    tally: dict[Conclusion, int]
    rows: tuple[Row, ...]
    comments: tuple[tuple[Seat, str], ...]  # (seat, its comment and free-text answers)

    @property
    def mixed(self) -> bool:
        """Some said pass and some fail."""
        return self.tally.get(Conclusion.PASS, 0) > 0 and self.tally.get(Conclusion.FAIL, 0) > 0

    @property
    def splits(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.split)


def summarise(panel: Panel, rubric: Rubric | Callable[[Seat], Rubric]) -> Summary:
    """Tally, table and comments of what the panel's viewer may see; `rubric`: every seat's, or each seat's own
    (interviewers of different rounds may use different forms: they are compared per shared dimension title)."""
    rubric_of: Callable[[Seat], Rubric] = (lambda seat: rubric) if isinstance(rubric, Rubric) else rubric
    seen = [s.assessment for s in panel.seats]
    rubrics = [rubric_of(s) if s.assessment is not None else None for s in panel.seats]
    tally = Counter(a.conclusion for a in seen if a is not None and a.conclusion is not None)
    order: dict[str, Dimension] = {}  # folded title -> the first dimension so titled, in the forms' order
    for used in dict.fromkeys(r.id for r in rubrics if r is not None):
        for dim in next(r for r in rubrics if r is not None and r.id == used).dimensions:
            if dim.type is not DimensionType.TEXT and not dim.computed:
                order.setdefault(fold(dim.title), dim)
    rows = []
    for title, first in order.items():
        found = [_answer(a, r, title) if a is not None and r is not None else None
                 for a, r in zip(seen, rubrics, strict=True)]
        if not any(f is not None for f in found):
            continue
        scores = [v for _, v in (f for f in found if f is not None) if isinstance(v, int)]
        scored = all(d.type is DimensionType.SCORE for d, _ in (f for f in found if f is not None))
        spread = max(scores) - min(scores) if scored and len(scores) > 1 else None
        cells = tuple("—" if f is None else _cell(*f) for f in found)
        rows.append(Row(first.key, first.title, first.label_en, cells, spread))
    totals = [r.total(a.dimensions) if a is not None and r is not None else None
              for a, r in zip(seen, rubrics, strict=True)]
    if any(t is not None for t in totals):
        named = next(r.total_title for r, t in zip(rubrics, totals, strict=True) if r is not None and t is not None)
        rows.append(Row("total", *named, tuple("—" if t is None else number(t) for t in totals)))
    comments = []
    for seat, used in zip(panel.seats, rubrics, strict=True):
        if seat.assessment is None or used is None:
            continue
        parts = [seat.assessment.content or ""]
        parts += [f"{d.title}: {seat.assessment.dimensions[d.key]}" for d in used.dimensions
                  if d.type is DimensionType.TEXT and seat.assessment.dimensions.get(d.key)]
        text = "\n".join(p for p in parts if p)
        if text:
            comments.append((seat, text))
    ordered = {c: tally[c] for c in (Conclusion.PASS, Conclusion.FAIL, Conclusion.PENDING) if tally[c]}
    return Summary(ordered, tuple(rows), tuple(comments))


def _answer(assessment: Assessment, rubric: Rubric, title: str) -> tuple[Dimension, Value] | None:
    """A seat's answer to the dimension with this (folded) title in its own rubric."""
    dim = next((d for d in rubric.dimensions if fold(d.title) == title), None)
    value = assessment.dimensions.get(dim.key) if dim is not None else None
    return (dim, value) if dim is not None and value is not None else None


def _cell(dim: Dimension, value: Value) -> str:
    if isinstance(value, tuple):
        return "、".join(value)
    if dim.by_option or dim.options_en:
        return shown(dim, value)[0]
    return str(value)


def recipients(ctx: Context, found: Panel) -> list[str]:
    """Who follows an application: its recruiter(s) and the admins."""
    return list(dict.fromkeys([*found.recruiters, *ctx.settings.assessbot_admins]))
