"""Taking a schedule in, whichever way it came: people named by email or mobile resolved to open_ids (cached), the
feedback form a row names found among the forms known, then the assignments upserted with their reminders planned.
The store, the forms and the Feishu lookup are passed in.

A schedule states each interview it names as it now is: whoever it no longer names on one of those interviews is
withdrawn, and the rows whose status says cancelled cancel. An interview it does not name is left alone (a file of
next week's interviews withdraws nobody from this week's), and so is one that some refused row names (with
--skip-invalid the schedule does not say who is on it). Withdrawn and cancelled assignments stop being reminded
and leave /todo; feedback already written on them stays in Feishu Hire and is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from bot.rubric import fold
from bot.schedule.model import Cancellation, ScheduleRow, person_kind, read_person
from bot.schedule.validation import Problem, Where, in_order

if TYPE_CHECKING:
    from bot.feishu.errors import FeishuError
    from bot.rubric import Rubric
    from bot.store import Upserted
    from bot.store.schedule import Plan, Stopped

MISSING_SCOPE = 99991672  # Feishu's "Access denied. One of the following scopes is required"
REFRESH = 7 * 24 * 3600.0  # a cached email or mobile is asked again after a week (people change jobs, numbers)
BATCH = 50  # Feishu's limit of emails, and of mobiles, per batch_get_id call

Lookup = Callable[[list[str], list[str]], dict[str, str]]  # Feishu.open_ids(emails, mobiles)
Progress = Callable[[str, int, int], None]  # (stage "people" or "import", done, total)


class Forms(Protocol):
    """The forms a schedule may name (bot.forms.catalogue.Catalogue)."""

    def find(self, word: str) -> Rubric | None: ...
    def suggest(self, word: str) -> str | None: ...
    def names(self) -> list[str]: ...


class Directory(Protocol):
    """The store's verbs an intake uses."""

    def people(self, refs: Iterable[str], since: float) -> dict[str, str]: ...
    def remember_people(self, found: Mapping[str, str]) -> None: ...
    def upsert_assignments(self, rows: Sequence[dict], plan: Plan, *,
                           stated: Mapping[str, Collection[str]] | None = None,
                           cancel: Collection[tuple[str, str | None]] = (), dry_run: bool = False,
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
    stopped: tuple[Stopped, ...] = ()  # assignments withdrawn or cancelled (dry: that would be)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def withdrawn(self) -> list[Stopped]:
        return [s for s in self.stopped if s.why == "withdrawn"]

    @property
    def cancelled(self) -> list[Stopped]:
        return [s for s in self.stopped if s.why == "cancelled"]

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged}

    def changed(self) -> bool:
        """Whether the import changed anything in the schedule."""
        return bool(self.new or self.updated or self.stopped)


def take_in(assignments: Sequence[ScheduleRow], problems: Iterable[Problem], store: Directory, plan: Plan, *,
            lookup: Lookup | None, now: float, skip_invalid: bool = False, dry_run: bool = False,
            progress: Progress | None = None, forms: Forms | None = None, tags: Mapping[int, dict] | None = None,
            gone: Sequence[tuple[str, str]] = ()) -> Taken:
    """Resolve, check and upsert validated assignments; nothing is written while any row has an error, unless
    `skip_invalid` (then the rows without one are). A dry run writes nothing at all, not even the people cache.
    A row's form must be one of `forms` (its newest version's id is kept; the interview pins a version when it is
    first opened).

    `assignments` as the validation gives them (bot.schedule.validation.Rows) also carry the cancelled rows and
    the interviews named by refused rows; the interviews named are stated whole (see the module's docstring).

    `tags` (row number -> columns) marks each row with where it came from (a table's name and record); `gone`
    (interview, open_id) pairs are cancelled without stating their interviews (a table's removed rows).

    Raises whatever `lookup` raises when Feishu cannot answer (nothing is written then).
    """
    where = getattr(assignments, "where", {})
    cancelled: list[Cancellation] = list(getattr(assignments, "cancelled", ()))
    partial: set[str] = set(getattr(assignments, "partial", ()))
    refs = people_in(assignments) | {c.interviewer for c in cancelled
                                     if c.interviewer and person_kind(c.interviewer) != "open_id"}
    found = resolve(refs, store, lookup, now, dry_run=dry_run, progress=progress)
    rows, bad, more = rows_for(assignments, found, where, lookup_available=lookup is not None, forms=forms,
                                tags=tags)
    cancel, bad_cancels, unknown = cancels_for(cancelled, found, where, lookup_available=lookup is not None)
    found_problems = in_order([*problems, *more, *unknown])
    errors = [p for p in found_problems if not p.warning]
    if errors and (not skip_invalid or not (rows or cancel or gone)):
        return Taken(problems=tuple(found_problems))
    skipped = len({p.row for p in errors if p.row is not None} | bad | bad_cancels)
    partial |= {a.interview_id for a in assignments if (where.get(a.key) and where[a.key].row in bad)}
    partial |= {c.interview_id for c in cancelled if c.interviewer and where.get((c.interview_id, c.interviewer))
                and where[(c.interview_id, c.interviewer)].row in bad_cancels}
    total = len(rows)
    step = (lambda done: progress("import", done, total)) if progress is not None else None
    stated = statement(rows, cancel, partial)
    counts = store.upsert_assignments(rows, plan, stated=stated, cancel=[*cancel, *gone], dry_run=dry_run,
                                      progress=step)
    hit = {(s.interview_id, s.interviewer) for s in counts.stopped} | {(s.interview_id, None) for s in counts.stopped}
    idle = sum(1 for pair in cancel if pair not in hit)  # a cancellation already in force, or of nothing known
    return Taken(counts.new, counts.updated, counts.unchanged + idle, tuple(found_problems), skipped, True,
                 counts.stopped)


def statement(rows: Iterable[Mapping], cancel: Iterable[tuple[str, str | None]],
              partial: Collection[str]) -> dict[str, set[str]]:
    """Each interview a schedule names, with the interviewers it names on it now (scheduled or cancelled), but for
    the interviews some refused row names and those cancelled whole: nobody is withdrawn from those."""
    stated: dict[str, set[str]] = {}
    for row in rows:
        stated.setdefault(row["interview_id"], set()).add(row["interviewer"])
    for interview, person in cancel:
        if person is not None:
            stated.setdefault(interview, set()).add(person)
    whole = {interview for interview, person in cancel if person is None}
    return {interview: people for interview, people in stated.items() if interview not in partial | whole}


def cancels_for(cancelled: Iterable[Cancellation], found: Mapping[str, str], where: Mapping[tuple[str, str], Where],
                *, lookup_available: bool = True) -> tuple[list[tuple[str, str | None]], set[int], list[Problem]]:
    """The cancellations as (interview, open_id or None); the rows whose interviewer nobody could find, and why."""
    cancel: list[tuple[str, str | None]] = []
    bad: set[int] = set()
    problems: list[Problem] = []
    for c in cancelled:
        person = c.interviewer
        if person is not None and person_kind(person) != "open_id":
            if person not in found:
                spot = where.get((c.interview_id, person))
                number, place = (spot.row, spot.place) if spot else (None, "row")
                zh, en = _unknown(person, lookup_available)
                column = spot.names.get("interviewer", "interviewer") if spot else "interviewer"
                problems.append(Problem(number, column, zh, en, place, "interviewer"))
                bad.add(number or 0)
                continue
            person = found[person]
        cancel.append((c.interview_id, person))
    return list(dict.fromkeys(cancel)), bad, problems


def people_in(assignments: Iterable[ScheduleRow]) -> set[str]:
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


def rows_for(assignments: Iterable[ScheduleRow], found: Mapping[str, str], where: Mapping[tuple[str, str], Where],
             *, lookup_available: bool = True, forms: Forms | None = None,
             tags: Mapping[int, dict] | None = None) -> tuple[list[dict], set[int], list[Problem]]:
    """Store rows for the assignments whose people and form are all known; the rows left out and why."""
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
        form = None
        if a.form is not None:
            chosen = forms.find(a.form) if forms is not None else None
            if chosen is None:
                zh, en = unknown_form(a.form, forms)
                problems.append(Problem(number, names.get("form", "form"), zh, en, place, "form"))
                bad.add(number or 0)
                continue
            form = form_choice(a.form, chosen)
        if missing:
            bad.add(number or 0)
            continue
        row = as_row(a, found, form)
        if tags and number in tags:
            row.update(tags[number])
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


def form_choice(word: str, chosen: Rubric) -> str:
    """What an assignment keeps of the form its schedule named: the form's name (so a re-import after an edit in
    Hire changes nothing), or the id as given (an older version's id still names its form's newest version)."""
    return chosen.name if fold(word) in {fold(n) for n in (chosen.name, chosen.name_en) if n} else word.strip()


def unknown_form(word: str, forms: Forms | None) -> tuple[str, str]:
    """A form name nobody knows, with the closest known name (or the ones there are)."""
    if forms is None:
        return "这里无法核对评价表。", "forms cannot be checked here."
    near = forms.suggest(word)
    if near is not None:
        return (f"没有名为“{word}”的评价表。是否想用“{near}”？",
                f"there is no feedback form called '{word}'. Did you mean '{near}'?")
    known = forms.names()
    listed = "、".join(known[:8]) + ("…" if len(known) > 8 else "")
    listed_en = ", ".join(known[:8]) + ("…" if len(known) > 8 else "")
    return (f"没有名为“{word}”的评价表；已知：{listed}（`assessbot forms` 列出全部）。",
            f"there is no feedback form called '{word}'; known: {listed_en} (`assessbot forms` lists them).")


def _unknown(person: str, lookup_available: bool) -> tuple[str, str]:
    kind_zh, kind_en = ("邮箱", "email") if person_kind(person) == "email" else ("手机号", "mobile number")
    if not lookup_available:
        return (f"无法在这里查询{kind_zh}“{person}”；请改用 open_id（ou_…）。",
                f"the {kind_en} '{person}' cannot be looked up here; use an open_id (ou_…).")
    return (f"飞书中找不到{kind_zh}为“{person}”的用户（或此人不在应用的通讯录权限范围内）。",
            f"nobody in Feishu has the {kind_en} '{person}' (or they are outside the app's contacts range).")


def as_row(a: ScheduleRow, open_ids: Mapping[str, str], form: str | None = None) -> dict:
    """An assignment as `Store.upsert_assignments` takes it: people as open_ids, times as epoch seconds, the form as
    `form_choice` keeps it."""
    return {"interview_id": a.interview_id, "interviewer": open_ids.get(a.interviewer, a.interviewer),
            "feishu_assessment_id": a.feishu_assessment_id, "candidate": a.candidate, "position": a.position,
            "round": a.round,
            "start_at": a.start.timestamp(), "end_at": a.end.timestamp(),
            "recruiter": open_ids.get(a.recruiter, a.recruiter) if a.recruiter else None,
            "application_id": a.application_id, "form": form}


def stop_words(stop: Stopped, name: str, *, dry: bool = False) -> tuple[str, str]:
    """One withdrawn or cancelled assignment in words (zh, en): who, which interview, what becomes of it."""
    who = name if name == stop.interviewer else f"{name} ({stop.interviewer})"
    who_zh = name if name == stop.interviewer else f"{name}（{stop.interviewer}）"
    interview, interview_zh = f"interview {stop.interview_id} ({stop.candidate})", \
        f"面试 {stop.interview_id}（{stop.candidate}）"
    if stop.why == "withdrawn":
        zh = f"{'将撤回' if dry else '已撤回'}：{who_zh} 不再参加{interview_zh}，提醒{'将' if dry else '已'}停止。"
        en = f"{'Would withdraw' if dry else 'Withdrawn'}: {who} from {interview}; reminders stop."
    else:
        zh = f"{'将取消' if dry else '已取消'}：{who_zh} 的{interview_zh}，提醒{'将' if dry else '已'}停止。"
        en = f"{'Would cancel' if dry else 'Cancelled'}: {interview} for {who}; reminders stop."
    if stop.submitted:
        held = f"（面评 {stop.feishu_assessment_id}）" if stop.feishu_assessment_id else ""
        held_en = f" (assessment {stop.feishu_assessment_id})" if stop.feishu_assessment_id else ""
        zh += f"TA 已提交的反馈保留在飞书招聘中{held}。"
        en += f" The feedback they already wrote stays in Feishu Hire{held_en}."
    return zh, en


def counts_words(taken: Taken) -> tuple[str, str]:
    """`3 new, 2 updated, 10 unchanged` (and the withdrawn and cancelled when there are any), zh and en."""
    en = f"{taken.new} new, {taken.updated} updated, {taken.unchanged} unchanged"
    zh = f"新增 {taken.new}，更新 {taken.updated}，未变 {taken.unchanged}"
    if taken.withdrawn:
        en, zh = en + f", {len(taken.withdrawn)} withdrawn", zh + f"，撤回 {len(taken.withdrawn)}"
    if taken.cancelled:
        en, zh = en + f", {len(taken.cancelled)} cancelled", zh + f"，取消 {len(taken.cancelled)}"
    return zh, en


def lookup_failed(exc: FeishuError, domain: str) -> tuple[str, str]:
    """Why Feishu could not look people up, in words for whoever runs the import (zh, en)."""
    host = urlsplit(domain).netloc or domain
    if exc.code is None:
        why = exc.msg.removeprefix("cannot reach Feishu: ")
        return (f"无法连接 {host}（{why}），未能查询邮箱和手机号，没有导入任何内容。"
                "请检查本机网络和 FEISHU_DOMAIN 后重新导入。",
                f"Cannot reach {host} ({why}) to look up emails and mobiles; nothing was imported. Check this "
                "machine's network and FEISHU_DOMAIN, then import again.")
    said = f"code {exc.code}" + (f", log id {exc.log_id}" if exc.log_id else "")
    if exc.code == MISSING_SCOPE:
        return (f"飞书拒绝查询邮箱和手机号：应用缺少 contact:user.id:readonly 权限（{said}），没有导入任何内容。"
                "请开通该权限，或改用 open_id（ou_…）。",
                f"Feishu refused to look up emails and mobiles: the app lacks the contact:user.id:readonly scope "
                f"({said}); nothing was imported. Grant the scope, or give people as open_ids (ou_…).")
    if exc.credentials or exc.token_invalid:
        return (f"飞书拒绝了应用凭证（{said}），没有导入任何内容。请检查 FEISHU_APP_ID 和 FEISHU_APP_SECRET。",
                f"Feishu refused the app's credentials ({said}); nothing was imported. Check FEISHU_APP_ID and "
                "FEISHU_APP_SECRET.")
    return (f"飞书无法查询邮箱和手机号（{said}：{exc.msg}），没有导入任何内容。",
            f"Feishu could not look up emails and mobiles ({said}: {exc.msg}); nothing was imported.")
