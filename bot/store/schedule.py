"""The schedule of interviews: assignments (one interviewer on one external interview), upserted and queried."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, bindparam, func, or_, select, update

from bot.store.assessments import Assessments
from bot.store.schema import NewJob, assessments, assignments, jobs, people

FIELDS = ("assessment_id", "candidate", "job", "round", "start_at", "end_at", "recruiter", "application_id")


_BY_ID = select(assignments).where(or_(assignments.c.key == bindparam("p_word"),
                                       assignments.c.assessment_id == bindparam("p_word"),
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
    key: str
    assessment_id: str | None
    external_id: str
    candidate: str
    job: str | None
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

    @property
    def open(self) -> bool:
        """Still waiting for the interviewer's feedback."""
        return self.submitted_at is None and self.stopped is None


@dataclass(frozen=True)
class Upserted:
    """What an import did: how many assignments were new, changed or already as given."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def external_id(interview_id: str, interviewer: str) -> str:
    """The create's idempotency key: the same interview and interviewer always give the same key."""
    return "ab-" + hashlib.sha256(f"{interview_id}\0{interviewer}".encode()).hexdigest()[:32]


def _row(row) -> Assignment:  # type: ignore[no-untyped-def]
    return Assignment(**{name: getattr(row, name) for name in Assignment.__dataclass_fields__})


Plan = Callable[[Assignment, Assignment | None], tuple[float | None, list[NewJob]]]


class _DryRun(Exception):
    """Rolls a dry-run upsert back, carrying what it would have done."""

    def __init__(self, counts: Upserted):
        super().__init__("dry run")
        self.counts = counts


# Statements of the per-row path, built once: building one costs more than running it on SQLite.
_INSERT = assignments.insert()
_UPDATE = update(assignments).where(assignments.c.id == bindparam("p_id")).values(
    {"updated_at": bindparam("p_now"), **{name: bindparam(f"p_{name}") for name in FIELDS}})
_REMIND_AT = update(assignments).where(assignments.c.id == bindparam("p_id")).values(remind_at=bindparam("p_remind"))
_NEW_JOB = jobs.insert()
CHUNK = 100  # rows per transaction in an import, so acknowledgements are never kept waiting for long


def upsert(conn: Connection, rows: Sequence[dict], plan: Plan, now: float,
           set_owner: Callable[[Connection, str, str, float], None],
           progress: Callable[[int], None] | None = None) -> Upserted:
    """Insert or update each row on `conn` (see Schedule.upsert_assignments); also used by an acknowledgement."""
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    interview_ids = sorted({given["interview_id"] for given in rows})
    existing = {(r.interview_id, r.interviewer): _row(r) for r in conn.execute(
        select(assignments).where(assignments.c.interview_id.in_(interview_ids)))} if interview_ids else {}
    for done, given in enumerate(rows, start=1):
        if progress is not None:
            progress(done)
        before = existing.get((given["interview_id"], given["interviewer"]))
        values = {name: given.get(name) for name in FIELDS}
        if before is None:
            ext = external_id(given["interview_id"], given["interviewer"])
            key = given.get("assessment_id") or ext
            row_id = conn.execute(_INSERT, {
                "interview_id": given["interview_id"], "interviewer": given["interviewer"], "key": key,
                "external_id": ext, "created_at": now, "updated_at": now, **values}).inserted_primary_key[0]
            after = Assignment(id=row_id, interview_id=given["interview_id"], interviewer=given["interviewer"],
                               key=key, external_id=ext, remind_at=None, first_reminded_at=None, submitted_at=None,
                               stopped=None, escalated_at=None, **values)
            counts["new"] += 1
        else:
            if given.get("assessment_id") is None:
                values["assessment_id"] = before.assessment_id  # an id learned by creating it stays
            if all(getattr(before, name) == value for name, value in values.items()):
                counts["unchanged"] += 1
                continue
            conn.execute(_UPDATE, {"p_id": before.id, "p_now": now, **{f"p_{k}": v for k, v in values.items()}})
            after = replace(before, **values)
            counts["updated"] += 1
        existing[(given["interview_id"], given["interviewer"])] = after
        if before is None:  # a new assignment's interviewer owns it; a later admin hand-over survives re-imports
            set_owner(conn, after.key, given["interviewer"], now)
        remind_at, planned = plan(after, before)
        conn.execute(_REMIND_AT, {"p_id": after.id, "p_remind": remind_at})
        for job in planned:
            _insert_job(conn, job, now)
    return Upserted(**counts)


def _insert_job(conn: Connection, job: NewJob, now: float) -> None:
    conn.execute(_NEW_JOB, {
        "kind": job.kind, "assessment_id": job.assessment_id, "version": None,
        "payload": json.dumps(job.payload, ensure_ascii=False), "status": "pending", "stage": "start", "attempts": 0,
        "run_after": now + job.delay, "created_at": now, "updated_at": now})


class Schedule(Assessments):
    """Assignments: upserted by (interview_id, interviewer), looked up by person, key, id or candidate."""

    def upsert_assignments(self, rows: Sequence[dict], plan: Plan, *, dry_run: bool = False,
                           progress: Callable[[int], None] | None = None) -> Upserted:
        """Insert or update each row; `plan` says when to remind of a new or changed row and gives the jobs that
        will. Rows are written CHUNK to a transaction (they were all checked before); a dry run counts the same
        and rolls everything back.

        A row's interviewer owns its assessment (the schedule is the authority on who assessed whom).
        """
        total = Upserted()
        for first in range(0, len(rows), CHUNK):
            step = (lambda done, first=first: progress(first + done)) if progress is not None else None
            try:
                with self.transaction() as conn:
                    counts = upsert(conn, rows[first:first + CHUNK], plan, self.clock(), self._set_owner, step)
                    if dry_run:
                        raise _DryRun(counts)
            except _DryRun as dry:
                counts = dry.counts
            total = Upserted(total.new + counts.new, total.updated + counts.updated,
                             total.unchanged + counts.unchanged)
        return total

    def people(self, refs: Iterable[str], since: float) -> dict[str, str]:
        """The open_ids of emails and mobiles resolved at or after `since`."""
        refs = sorted(set(refs))
        found: dict[str, str] = {}
        with self._reading() as conn:
            for start in range(0, len(refs), 500):
                query = select(people.c.ref, people.c.open_id).where(
                    people.c.ref.in_(refs[start:start + 500]), people.c.resolved_at >= since)
                found.update((row.ref, row.open_id) for row in conn.execute(query))
        return found

    def remember_people(self, found: Mapping[str, str]) -> None:
        """Cache what Feishu said: email or mobile -> open_id, as of now."""
        if not found:
            return
        now = self.clock()
        rows = [{"ref": ref, "open_id": open_id, "resolved_at": now} for ref, open_id in sorted(found.items())]
        with self.transaction() as conn:
            for start in range(0, len(rows), 500):
                statement = self._insert(people).values(rows[start:start + 500])
                conn.execute(statement.on_conflict_do_update(
                    index_elements=[people.c.ref],
                    set_={"open_id": statement.excluded.open_id, "resolved_at": statement.excluded.resolved_at}))

    def assignment(self, key: str) -> Assignment | None:
        """The assignment whose assessment key, Feishu assessment id or row id is `key`."""
        with self._reading() as conn:
            row = conn.execute(select(assignments).where(
                or_(assignments.c.key == key, assignments.c.assessment_id == key))).first()
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
        with self._reading() as conn:  # statements built once: this runs on every typed /assess
            rows = conn.execute(_BY_ID if person is None else _BY_ID_OF, params).all()
            if not rows and person is not None:
                rows = conn.execute(_BY_NAME_OF, params).all()
        return [_row(r) for r in rows]

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

    def learn_assessment_id(self, key: str, assessment_id: str) -> None:
        """Remember the id Feishu gave the assessment the bot created for an assignment."""
        with self.transaction() as conn:
            conn.execute(update(assignments).where(assignments.c.key == key, assignments.c.assessment_id.is_(None))
                         .values(assessment_id=assessment_id, updated_at=self.clock()))

    def any_interview(self) -> str | None:
        """One interview of the schedule (None: no schedule), for checks that need a real id."""
        with self._reading() as conn:
            return conn.execute(select(assignments.c.interview_id).limit(1)).scalar()

    def owner_of(self, key: str) -> str | None:
        with self._reading() as conn:
            return conn.execute(select(assessments.c.owner).where(assessments.c.assessment_id == key)).scalar()

