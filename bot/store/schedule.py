"""The schedule of interviews: assignments (one interviewer on one external interview), upserted and queried."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, bindparam, func, or_, select, text, update

from bot.contract import NewJob
from bot.store.assessments import Assessments
from bot.store.schema import assessments, assignments, insert_job, processed

FIELDS = ("feishu_assessment_id", "candidate", "position", "round", "start_at", "end_at", "recruiter",
          "application_id", "form")
# Why an assignment's reminders stopped (its `stopped`): the interviewer said it was not theirs, a schedule no longer
# names them on the interview, or the interview was cancelled. A schedule that names them again undoes the last two.
NOT_MINE, WITHDRAWN, CANCELLED = "not_mine", "withdrawn", "cancelled"
UNDONE_BY_NAMING = (WITHDRAWN, CANCELLED)


_BY_ID = select(assignments).where(or_(assignments.c.key == bindparam("p_word"),
                                       assignments.c.feishu_assessment_id == bindparam("p_word"),
                                       assignments.c.interview_id == bindparam("p_word")))
_BY_ID_OF = _BY_ID.where(assignments.c.interviewer == bindparam("p_person"))
_BY_NAME_OF = select(assignments).where(assignments.c.interviewer == bindparam("p_person"),
                                        func.lower(assignments.c.candidate) == bindparam("p_name"))


@dataclass(frozen=True)
class Assignment:
    """One assignment as the rest of the bot sees it."""

    id: int
    interview_id: str
    interviewer: str
    key: str  # the bot's key of its assessment
    feishu_assessment_id: str | None  # Feishu's id of its assessment: given, or learned when the bot created it
    external_id: str
    candidate: str
    position: str | None
    round: str | None
    start_at: float
    end_at: float
    recruiter: str | None
    application_id: str | None
    remind_at: float | None
    first_reminded_at: float | None
    submitted_at: float | None
    stopped: str | None
    escalated_at: float | None
    form: str | None = None  # the form the schedule chose (its name, or a version's id), None: the mapping decides
    form_id: str | None = None  # the form version pinned when first opened or written
    source: str | None = None  # the table that states it (bitable:<app>:<table>), when one does
    record_id: str | None = None  # its record there
    reminded_at: float | None = None  # when its own reminder last went out
    digested_on: str | None = None  # the day of the last digest that listed it

    @property
    def open(self) -> bool:
        """Still waiting for the interviewer's feedback."""
        return self.submitted_at is None and self.stopped is None


@dataclass(frozen=True)
class Stopped:
    """An assignment an import stopped: withdrawn (the schedule no longer names its interviewer on the interview) or
    cancelled (the interview, or this interviewer's part in it, will not take place)."""

    id: int
    interview_id: str
    interviewer: str
    candidate: str
    why: str  # WITHDRAWN or CANCELLED
    submitted: bool  # the interviewer's feedback was written already: it stays in Feishu Hire
    feishu_assessment_id: str | None


@dataclass(frozen=True)
class Upserted:
    """What an import did: how many assignments were new, changed or already as given, and which it stopped."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stopped: tuple[Stopped, ...] = ()

    @property
    def withdrawn(self) -> tuple[Stopped, ...]:
        return tuple(s for s in self.stopped if s.why == WITHDRAWN)

    @property
    def cancelled(self) -> tuple[Stopped, ...]:
        return tuple(s for s in self.stopped if s.why == CANCELLED)

    def __add__(self, other: Upserted) -> Upserted:
        return Upserted(self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged,
                        self.stopped + other.stopped)


def external_id(interview_id: str, interviewer: str) -> str:
    """The create's idempotency key: the same interview and interviewer always give the same key."""
    return "ab-" + hashlib.sha256(f"{interview_id}\0{interviewer}".encode()).hexdigest()[:32]


_COLUMNS = tuple(column.name for column in assignments.c)  # in the order `select(assignments)` gives them


def _row(row) -> Assignment:  # type: ignore[no-untyped-def]
    """An assignment from a result row or a mapping of column names."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    return Assignment(**{name: get(name) for name in Assignment.__dataclass_fields__})


Plan = Callable[[Assignment, Assignment | None], tuple[float | None, list[NewJob]]]


def foresee(plan: Plan, rows: Sequence[dict]) -> None:
    """Show a plan that looks ahead (bot/schedule/planner.py) the whole batch before its rows one by one."""
    expect = getattr(plan, "expect", None)
    if expect is not None:
        expect(rows)


class _NotTaken(Exception):
    """Rolls back the mark of a reminder that was no longer planned."""


class _DryRun(Exception):
    """Rolls a dry-run upsert back, carrying what it would have done."""

    def __init__(self, counts: Upserted):
        super().__init__("dry run")
        self.counts = counts


# Statements of the per-row path, built once: building one costs more than running it on SQLite.
_INSERT = assignments.insert()
TAGS = ("source", "record_id")  # where a table's row came from: kept unless a row from a table says otherwise
_UPDATE = update(assignments).where(assignments.c.id == bindparam("p_id")).values(
    {"updated_at": bindparam("p_now"), "stopped": bindparam("p_stopped"),
     **{name: bindparam(f"p_{name}") for name in (*FIELDS, *TAGS)}})
_HOLDER = select(assignments).where(assignments.c.key == bindparam("p_key"))
_REKEY = update(assignments).where(assignments.c.id == bindparam("p_id")).values(
    key=bindparam("p_key"), feishu_assessment_id=None, updated_at=bindparam("p_now"))
_STOP = update(assignments).where(assignments.c.id == bindparam("p_id"), assignments.c.stopped.is_(None)).values(
    stopped=bindparam("p_why"), remind_at=None, updated_at=bindparam("p_now"))
_REMIND_AT = update(assignments).where(assignments.c.id == bindparam("p_id")).values(remind_at=bindparam("p_remind"))
_MARK = text(f'INSERT INTO {processed.name} ("key", created_at) VALUES (:p_key, :p_now) '
             'ON CONFLICT DO NOTHING RETURNING "key"')
_TAKE_REMINDER = update(assignments).where(
    assignments.c.id == bindparam("p_id"), assignments.c.submitted_at.is_(None), assignments.c.stopped.is_(None),
    assignments.c.remind_at.between(bindparam("p_low"), bindparam("p_high"))).values(
    remind_at=None, reminded_at=bindparam("p_now"), updated_at=bindparam("p_now"),
    first_reminded_at=func.coalesce(assignments.c.first_reminded_at, bindparam("p_now")))


def _existing(conn: Connection, interview_ids: Iterable[str]) -> dict[tuple[str, str], Assignment]:
    """The assignments of these interviews, by (interview, interviewer)."""
    found: dict[tuple[str, str], Assignment] = {}
    wanted = sorted(set(interview_ids))
    for start in range(0, len(wanted), 500):
        query = select(assignments).where(assignments.c.interview_id.in_(wanted[start:start + 500]))
        found.update(((r.interview_id, r.interviewer), _row(r)) for r in conn.execute(query))
    return found


def to_stop(existing: Iterable[Assignment], stated: Mapping[str, Collection[str]],
            cancel: Collection[tuple[str, str | None]]) -> list[Stopped]:
    """What a schedule stops among the existing assignments: the whole interviews it cancels and the interviewers it
    cancels, then on each interview it states whole (`stated`: interview -> its interviewers now) everyone it no
    longer names. Assignments already stopped stay as they are (not mine, withdrawn or cancelled before)."""
    whole = {interview for interview, person in cancel if person is None}
    one = {(interview, person) for interview, person in cancel if person is not None}
    found = []
    for a in sorted(existing, key=lambda a: a.id):
        if a.stopped is not None:
            continue
        if a.interview_id in whole or (a.interview_id, a.interviewer) in one:
            why = CANCELLED
        elif a.interview_id in stated and a.interviewer not in stated[a.interview_id]:
            why = WITHDRAWN
        else:
            continue
        found.append(Stopped(a.id, a.interview_id, a.interviewer, a.candidate, why, a.submitted_at is not None,
                             a.feishu_assessment_id))
    return found


def upsert(conn: Connection, rows: Sequence[dict], plan: Plan, now: float,
           set_owner: Callable[[Connection, str, str, float], None],
           progress: Callable[[int], None] | None = None, leaving: Collection[int] = ()) -> Upserted:
    """Insert or update each row on `conn` (see Schedule.upsert_assignments); also used by an acknowledgement.

    `leaving`: assignments this import stops, whose assessment a new row may take over (see `_key_for`).
    """
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    existing = _existing(conn, (given["interview_id"] for given in rows)) if rows else {}
    for done, given in enumerate(rows, start=1):
        if progress is not None:
            progress(done)
        before = existing.get((given["interview_id"], given["interviewer"]))
        values = {name: given.get(name) for name in FIELDS}
        tags = {name: given.get(name) for name in TAGS}
        if before is None:
            ext = external_id(given["interview_id"], given["interviewer"])
            key = _key_for(conn, values, ext, leaving, now)
            row_id = conn.execute(_INSERT, {
                "interview_id": given["interview_id"], "interviewer": given["interviewer"], "key": key,
                "external_id": ext, "created_at": now, "updated_at": now, **values, **tags}).inserted_primary_key[0]
            after = Assignment(id=row_id, interview_id=given["interview_id"], interviewer=given["interviewer"],
                               key=key, external_id=ext, remind_at=None, first_reminded_at=None, submitted_at=None,
                               stopped=None, escalated_at=None, **values, **tags)  # type: ignore[arg-type]
            counts["new"] += 1
        else:
            if given.get("feishu_assessment_id") is None:
                values["feishu_assessment_id"] = before.feishu_assessment_id  # an id learned by creating it stays
            if tags["source"] is None:  # a file or /assign: the table that stated it keeps it
                tags = {name: getattr(before, name) for name in TAGS}
            # named again after being withdrawn or cancelled: back on the interview, reminded as if new
            stopped = None if before.stopped in UNDONE_BY_NAMING else before.stopped
            if stopped == before.stopped and all(getattr(before, name) == value
                                                 for name, value in {**values, **tags}.items()):
                counts["unchanged"] += 1
                continue
            conn.execute(_UPDATE, {"p_id": before.id, "p_now": now, "p_stopped": stopped,
                                   **{f"p_{k}": v for k, v in {**values, **tags}.items()}})
            after = replace(before, **values, **tags, stopped=stopped)
            counts["updated"] += 1
        existing[(given["interview_id"], given["interviewer"])] = after
        if before is None:  # a new assignment's interviewer owns it; a later admin hand-over survives re-imports
            set_owner(conn, after.key, given["interviewer"], now)
        remind_at, planned = plan(after, before)
        conn.execute(_REMIND_AT, {"p_id": after.id, "p_remind": remind_at})
        for job in planned:
            insert_job(conn, job, now)
    return Upserted(**counts)


def _key_for(conn: Connection, values: dict, ext: str, leaving: Collection[int], now: float) -> str:
    """A new assignment's assessment key: the Feishu assessment id it was given, else its own.

    An assessment belongs to one assignment. When the given one is held by an assignment this import stops (an
    interviewer replaced on the same assessment) and its feedback was never written, the new interviewer takes it
    over and the old assignment keeps a key of its own; when feedback was written on it, or it belongs to an
    assignment that stays, it is left alone and the new one gets an assessment of its own (`values` loses the id).
    """
    given = values.get("feishu_assessment_id")
    if not given:
        return ext
    holder = conn.execute(_HOLDER, {"p_key": given}).first()
    if holder is None:
        return given
    if (holder.id in leaving or holder.stopped in UNDONE_BY_NAMING) and holder.submitted_at is None:
        conn.execute(_REKEY, {"p_id": holder.id, "p_key": holder.external_id, "p_now": now})
        return given
    values["feishu_assessment_id"] = None
    return ext


def stop(conn: Connection, stopped: Sequence[Stopped], now: float) -> list[Stopped]:
    """Stop these assignments' reminders, recording why; the ones that were still running."""
    return [s for s in stopped if conn.execute(_STOP, {"p_id": s.id, "p_why": s.why, "p_now": now}).rowcount]


class Schedule(Assessments):
    """Assignments: upserted by (interview_id, interviewer), looked up by person, key, id or candidate."""

    def upsert_assignments(self, rows: Sequence[dict], plan: Plan, *,
                           stated: Mapping[str, Collection[str]] | None = None,
                           cancel: Collection[tuple[str, str | None]] = (), dry_run: bool = False,
                           progress: Callable[[int], None] | None = None) -> Upserted:
        """Insert or update each row; `plan` says when to remind of a new or changed row and gives the jobs that
        will. The whole schedule is one transaction, so a process killed half-way leaves none of it (it was all
        checked before); a dry run counts the same and rolls everything back.

        `stated` (interview -> its interviewers' open_ids) names the interviews this schedule states whole: whoever
        else is on one of them is withdrawn. `cancel` names (interview, open_id) pairs, or (interview, None) for
        every interviewer of it, that will not take place. Both stop pending reminders and take the interview out of
        the person's /todo; a feedback already written stays (and is reported in `stopped`). A row naming someone
        withdrawn or cancelled before puts them back.

        A row's interviewer owns its assessment (the schedule is the authority on who assessed whom).
        """
        stopping: list[Stopped] = []
        if stated or cancel:
            with self._reading() as conn:
                existing = _existing(conn, [*(stated or {}), *(interview for interview, _ in cancel)])
            stopping = to_stop(existing.values(), stated or {}, cancel)
        leaving = {s.id for s in stopping}
        foresee(plan, rows)
        try:
            with self.transaction() as conn:
                now = self.clock()
                total = upsert(conn, rows, plan, now, self._set_owner, progress, leaving)
                total += Upserted(stopped=tuple(stopping if dry_run else stop(conn, stopping, now)))
                if dry_run:
                    raise _DryRun(total)
        except _DryRun as dry:
            total = dry.counts
        return total

    def assignment(self, key: str) -> Assignment | None:
        """The assignment whose assessment key or Feishu assessment id is `key`."""
        with self._reading() as conn:
            row = conn.execute(select(assignments).where(
                or_(assignments.c.key == key, assignments.c.feishu_assessment_id == key))).first()
        return _row(row) if row is not None else None

    def assignment_by_id(self, row_id: int) -> Assignment | None:
        with self._reading() as conn:
            row = conn.execute(select(assignments).where(assignments.c.id == row_id)).first()
        return _row(row) if row is not None else None

    def find_assignments(self, word: str, person: str | None = None) -> list[Assignment]:
        """Assignments a typed word names: an assessment key or id, an interview id, or a candidate's name.

        Names are matched among `person`'s assignments only (when given), case-insensitively.
        """
        params = {"p_word": word, "p_person": person, "p_name": word.strip().lower()}
        # hot statements (bot/store/hot.py): this runs on every typed /assess
        rows = self._look_up("by_id", _BY_ID, params) if person is None else self._look_up("by_id_of", _BY_ID_OF,
                                                                                            params)
        if not rows and person is not None:
            rows = self._look_up("by_name_of", _BY_NAME_OF, params)
        return [_row(dict(zip(_COLUMNS, r, strict=True))) for r in rows]

    def assignments_of(self, person: str, *, since: float | None = None) -> list[Assignment]:
        """A person's assignments (those ending after `since`, when given), by end time."""
        query = select(assignments).where(assignments.c.interviewer == person)
        if since is not None:
            query = query.where(assignments.c.end_at >= since)
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query.order_by(assignments.c.end_at)).all()]

    def due(self, person: str, now: float) -> list[Assignment]:
        """A person's interviews that have ended and still wait for their feedback, longest overdue first."""
        query = (select(assignments)
                 .where(assignments.c.interviewer == person, assignments.c.end_at <= now,
                        assignments.c.submitted_at.is_(None), assignments.c.stopped.is_(None))
                 .order_by(assignments.c.end_at))
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def submitted(self, person: str, limit: int = 5) -> list[Assignment]:
        """The person's last submitted assignments, newest first."""
        query = (select(assignments).where(assignments.c.interviewer == person, assignments.c.submitted_at.isnot(None))
                 .order_by(assignments.c.submitted_at.desc()).limit(limit))
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def update_assignment(self, assignment_id: int, **values: object) -> None:
        """Change bookkeeping columns of one assignment (remind_at, first_reminded_at, stopped, escalated_at)."""
        with self.transaction() as conn:
            conn.execute(update(assignments).where(assignments.c.id == assignment_id)
                         .values(updated_at=self.clock(), **values))

    def claim_reminder(self, assignment_id: int, at: float, mark: str) -> bool:
        """Take the reminder planned for `at` before it is sent: True when this reminder may go (taken now, or by
        an earlier attempt of the same job, whose `mark` it is); False when it was re-planned, taken by a digest or
        is no longer wanted. Taking it records when the person was reminded, so the day's digest leaves it out."""
        now = self.clock()
        try:
            with self.transaction() as conn:
                if not conn.execute(_MARK, {"p_key": mark, "p_now": now}).first():
                    return True  # an earlier attempt took it and may have sent it: send it again (same uuid)
                if not conn.execute(_TAKE_REMINDER, {"p_id": assignment_id, "p_low": at - 0.5, "p_high": at + 0.5,
                                                     "p_now": now}).rowcount:
                    raise _NotTaken  # rolls the mark back
        except _NotTaken:
            return False
        return True

    def claim_digest(self, person: str, day: str, day_start: float, ids: Collection[int], mark: str) -> bool:
        """Take these assignments into `person`'s digest of `day`, once a day (`mark`): each loses its pending
        reminder, unless its own reminder went out today or is still to come. False if the day's were taken."""
        now = self.clock()
        with self.transaction() as conn:
            if not conn.execute(_MARK, {"p_key": mark, "p_now": now}).first():
                return False
            conn.execute(update(assignments)
                         .where(assignments.c.id.in_(list(ids)), assignments.c.interviewer == person,
                                assignments.c.submitted_at.is_(None), assignments.c.stopped.is_(None),
                                or_(assignments.c.remind_at.is_(None), assignments.c.remind_at <= now),
                                or_(assignments.c.reminded_at.is_(None), assignments.c.reminded_at < day_start))
                         .values(digested_on=day, remind_at=None, updated_at=now,
                                 first_reminded_at=func.coalesce(assignments.c.first_reminded_at, now)))
        return True

    def digested(self, person: str, day: str) -> list[Assignment]:
        """The person's interviews `day`'s digest lists (taken by `claim_digest`) that still wait, by end time."""
        query = (select(assignments)
                 .where(assignments.c.interviewer == person, assignments.c.digested_on == day,
                        assignments.c.submitted_at.is_(None), assignments.c.stopped.is_(None))
                 .order_by(assignments.c.end_at))
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def learn_feishu_id(self, key: str, feishu_assessment_id: str) -> None:
        """Remember the id Feishu gave the assessment the bot created for an assignment."""
        with self.transaction() as conn:
            conn.execute(update(assignments)
                         .where(assignments.c.key == key, assignments.c.feishu_assessment_id.is_(None))
                         .values(feishu_assessment_id=feishu_assessment_id, updated_at=self.clock()))

    def any_interview(self) -> str | None:
        """One interview of the schedule (None: no schedule), for checks that need a real id."""
        with self._reading() as conn:
            return conn.execute(select(assignments.c.interview_id).limit(1)).scalar()

    def owner_of(self, key: str) -> str | None:
        with self._reading() as conn:
            return conn.execute(select(assessments.c.owner).where(assessments.c.assessment_key == key)).scalar()

