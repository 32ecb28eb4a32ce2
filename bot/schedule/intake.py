"""Taking a schedule in, whichever way it came: people named by email or mobile resolved to open_ids (cached),
then the assignments upserted with their reminders planned. The store and the Feishu lookup are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.schedule.model import Assignment, person_kind, read_person
from bot.schedule.validation import Problem, Where, in_order

if TYPE_CHECKING:
    from bot.store import Upserted
    from bot.store.schedule import Plan

REFRESH = 7 * 24 * 3600.0  # a cached email or mobile is asked again after a week (people change jobs, numbers)
BATCH = 50  # Feishu's limit of emails, and of mobiles, per batch_get_id call

Lookup = Callable[[list[str], list[str]], dict[str, str]]  # Feishu.open_ids(emails, mobiles)
Progress = Callable[[str, int, int], None]  # (stage "people" or "import", done, total)


class Directory(Protocol):
    """The store's verbs an intake uses."""

    def people(self, refs: Iterable[str], since: float) -> dict[str, str]: ...
    def remember_people(self, found: Mapping[str, str]) -> None: ...
    def upsert_assignments(self, rows: Sequence[dict], plan: Plan, *, dry_run: bool = False,
                           progress: Callable[[int], None] | None = None) -> Upserted: ...


@dataclass(frozen=True)
class Taken:
    """What an intake did (or, dry, would do), and every problem found on the way."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()
    skipped: int = 0  # rows left out because of a problem (with skip_invalid)
    applied: bool = False  # the upsert ran (and, in a dry run, was rolled back)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}


def take_in(assignments: Sequence[Assignment], problems: Iterable[Problem], store: Directory, plan: Plan, *,
            lookup: Lookup | None, now: float, skip_invalid: bool = False, dry_run: bool = False,
            progress: Progress | None = None) -> Taken:
    """Resolve, check and upsert validated assignments; nothing is written while any row has an error, unless
    `skip_invalid` (then the rows without one are). A dry run writes nothing at all, not even the people cache.

    Raises whatever `lookup` raises when Feishu cannot answer (nothing is written then).
    """
    where = getattr(assignments, "where", {})
    found = resolve(people_in(assignments), store, lookup, now, dry_run=dry_run, progress=progress)
    rows, bad, more = rows_for(assignments, found, where, lookup_available=lookup is not None)
    found_problems = in_order([*problems, *more])
    errors = [p for p in found_problems if not p.warning]
    if errors and (not skip_invalid or not rows):
        return Taken(problems=tuple(found_problems))
    skipped = len({p.row for p in errors if p.row is not None} | bad)
    total = len(rows)
    step = (lambda done: progress("import", done, total)) if progress is not None else None
    counts = store.upsert_assignments(rows, plan, dry_run=dry_run, progress=step)
    return Taken(counts.new, counts.updated, counts.unchanged, tuple(found_problems), skipped, True)


def people_in(assignments: Iterable[Assignment]) -> set[str]:
    """The emails and mobiles that name interviewers and recruiters (open_ids need no resolving)."""
    refs = set()
    for a in assignments:
        for person in (a.interviewer, a.recruiter):
            if person and person_kind(person) != "open_id":
                refs.add(person)
    return refs


def resolve(refs: set[str], store: Directory, lookup: Lookup | None, now: float, *, dry_run: bool = False,
            progress: Progress | None = None) -> dict[str, str]:
    """Email or mobile -> open_id: from the cache when fresh, else asked of Feishu in batches (and cached)."""
    found = store.people(refs, now - REFRESH) if refs else {}
    missing = sorted(refs - found.keys())
    if not missing or lookup is None:
        return found
    emails = [r for r in missing if person_kind(r) == "email"]
    mobiles = [r for r in missing if person_kind(r) == "mobile"]
    calls = max(-(-len(emails) // BATCH), -(-len(mobiles) // BATCH))
    asked: dict[str, str] = {}
    for n in range(calls):
        batch_emails, batch_mobiles = emails[n * BATCH:(n + 1) * BATCH], mobiles[n * BATCH:(n + 1) * BATCH]
        answer = lookup(batch_emails, [_wire_mobile(m) for m in batch_mobiles])
        asked.update(_normalised(answer, set(batch_emails) | set(batch_mobiles)))
        if progress is not None:
            progress("people", n + 1, calls)
    if asked and not dry_run:
        store.remember_people(asked)
    return found | asked


def _wire_mobile(mobile: str) -> str:
    """Mainland numbers as Feishu's documentation writes them (no +86); others with + and the country code."""
    return mobile.removeprefix("+86") if mobile.startswith("+86") else mobile


def _normalised(answer: Mapping[str, str], asked: set[str]) -> dict[str, str]:
    """Feishu's answer keyed as asked: emails lowercased, mobiles as +<country><number>, whatever form it echoes."""
    found = {}
    for ref, open_id in answer.items():
        try:
            key = read_person(ref, ("email", "mobile"))
        except ValueError:
            continue
        if key in asked and open_id:
            found[key] = open_id
    return found


def rows_for(assignments: Iterable[Assignment], found: Mapping[str, str], where: Mapping[tuple[str, str], Where],
             *, lookup_available: bool = True) -> tuple[list[dict], set[int], list[Problem]]:
    """Store rows for the assignments whose people are all known; the rows left out and why."""
    rows: list[dict] = []
    bad: set[int] = set()
    problems: list[Problem] = []
    seen: dict[tuple[str, str], tuple[int | None, str]] = {}
    for a in assignments:
        spot = where.get(a.key)
        number, place = (spot.row, spot.place) if spot else (None, "row")
        names = spot.names if spot else {}
        missing = [(field, person) for field, person in (("interviewer", a.interviewer), ("recruiter", a.recruiter))
                   if person and person_kind(person) != "open_id" and person not in found]
        for field, person in missing:
            zh, en = _unknown(person, lookup_available)
            problems.append(Problem(number, names.get(field, field), zh, en, place, field))
        if missing:
            bad.add(number or 0)
            continue
        row = as_row(a, found)
        key = (row["interview_id"], row["interviewer"])
        if key in seen:
            first, other = seen[key]
            what = "项" if place == "item" else "行"
            problems.append(Problem(
                number, names.get("interviewer", "interviewer"),
                f"与第 {first} {what}是同一场面试的同一位面试官（{other} 与 {a.interviewer} 是同一个人）。",
                f"same interview and interviewer as {place} {first} ({other} and {a.interviewer} are one person).",
                place, "interviewer"))
            bad.add(number or 0)
            continue
        seen[key] = (number, a.interviewer)
        rows.append(row)
    return rows, bad, problems


def _unknown(person: str, lookup_available: bool) -> tuple[str, str]:
    kind_zh, kind_en = ("邮箱", "email") if person_kind(person) == "email" else ("手机号", "mobile number")
    if not lookup_available:
        return (f"无法在这里查询{kind_zh}“{person}”；请改用 open_id（ou_…）。",
                f"the {kind_en} '{person}' cannot be looked up here; use an open_id (ou_…).")
    return (f"飞书中找不到{kind_zh}为“{person}”的用户（或此人不在应用的通讯录权限范围内）。",
            f"nobody in Feishu has the {kind_en} '{person}' (or they are outside the app's contacts range).")


def as_row(a: Assignment, open_ids: Mapping[str, str]) -> dict:
    """An assignment as `Store.upsert_assignments` takes it: people as open_ids, times as epoch seconds."""
    return {"interview_id": a.interview_id, "interviewer": open_ids.get(a.interviewer, a.interviewer),
            "assessment_id": a.assessment_id, "candidate": a.candidate, "job": a.job, "round": a.round,
            "start_at": a.start.timestamp(), "end_at": a.end.timestamp(),
            "recruiter": open_ids.get(a.recruiter, a.recruiter) if a.recruiter else None,
            "application_id": a.application_id}
