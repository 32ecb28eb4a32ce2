"""A candidate's panel (the interviews of one application) as the bot shows it, blinded for whoever looks.

Every view of a panel — the progress card, the calibration summary, /panel, a comment opened in full — is built
from `view()`, which asks `auth.may_see_panel` once and drops what the person may not see: a card cannot show
a value that is not in the panel it was given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import auth
from bot.assessment import Assessment, Conclusion
from bot.rubric import DimensionType, Rubric
from bot.store import Assignment, PanelState

if TYPE_CHECKING:
    from bot.services import Context
    from bot.settings import Settings

SPREAD = 2  # a score dimension whose scores differ by this much or more is a disagreement


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
    stopped: bool
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
    job: str | None
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


def load(ctx: Context, application_id: str) -> Panel | None:
    """The whole panel, as the recruiter sees it; None for an unknown application."""
    rows = ctx.store.application(application_id)
    if not rows:
        return None
    return build(rows, ctx.store.panel_state(application_id), lambda key: ctx.store.known(key).state,
                 lambda person: ctx.feishu.user_name(person) or person)


def build(rows: list[Assignment], state: PanelState, known: Callable[[str], Assessment],
          name: Callable[[str], str]) -> Panel:
    """A panel from its assignments, the known assessments (by key) and people's names (pure but for those)."""
    seats = tuple(Seat(a.id, a.key, a.interviewer, name(a.interviewer), a.round, a.start_at, a.end_at, a.submitted_at,
                       a.stopped is not None, known(a.key) if a.submitted_at is not None else None) for a in rows)
    recruiters = tuple(dict.fromkeys(a.recruiter for a in rows if a.recruiter))
    return Panel(rows[0].application_id or "", rows[0].candidate, rows[0].job, recruiters, seats, state)


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


def summarise(panel: Panel, rubric: Rubric) -> Summary:
    """Tally, table and comments of what the panel's viewer may see."""
    seen = [s.assessment for s in panel.seats]
    tally = Counter(a.conclusion for a in seen if a is not None and a.conclusion is not None)
    rows = []
    for dim in rubric.dimensions:
        if dim.type is DimensionType.TEXT or not any(a is not None and dim.key in a.dimensions for a in seen):
            continue
        values = [a.dimensions.get(dim.key) if a is not None else None for a in seen]
        scores = [v for v in values if isinstance(v, int)]
        spread = max(scores) - min(scores) if dim.type is DimensionType.SCORE and len(scores) > 1 else None
        cells = tuple("—" if v is None else "、".join(v) if isinstance(v, tuple) else str(v) for v in values)
        rows.append(Row(dim.key, dim.title, dim.label_en, cells, spread))
    comments = []
    for seat in panel.seats:
        if seat.assessment is None:
            continue
        parts = [seat.assessment.content or ""]
        parts += [f"{d.title}: {seat.assessment.dimensions[d.key]}" for d in rubric.dimensions
                  if d.type is DimensionType.TEXT and seat.assessment.dimensions.get(d.key)]
        text = "\n".join(p for p in parts if p)
        if text:
            comments.append((seat, text))
    ordered = {c: tally[c] for c in (Conclusion.PASS, Conclusion.FAIL, Conclusion.PENDING) if tally[c]}
    return Summary(ordered, tuple(rows), tuple(comments))
