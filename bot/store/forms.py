"""The feedback forms as last synced from Feishu Hire, every version kept (an edit in Hire makes a new id, and an
interview keeps the version it was opened with), the local rubric's versions, how the syncs went, the version
each assignment pinned, and the planned sync job. Nothing here calls Feishu: the sync job fills it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select, update

from bot.contract import NewJob, SyncForms
from bot.store.engine import Database
from bot.store.schema import assignments, form_syncs, forms, insert_job, jobs

SOURCE = "hire"


@dataclass(frozen=True)
class FormRow:
    """One version of a form as stored; `data` is its JSON (Hire's form as listed, or the local rubric)."""

    id: str
    origin: str  # hire | local
    version: int | None
    name: str
    name_en: str | None
    current: bool  # the newest version as last synced (for the local rubric: the file in use)
    seen_at: float
    data: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *((self.name_en,) if self.name_en else ()))


@dataclass(frozen=True)
class NewForm:
    """A form version to keep."""

    id: str
    version: int | None
    name: str
    name_en: str | None
    data: dict


@dataclass(frozen=True)
class SyncStatus:
    """How the last syncs went: the last success, the last failure, and which is newer."""

    ok: bool
    synced_at: float | None
    failed_at: float | None
    code: int | None
    reason: str | None
    forms: int | None


_COLUMNS = (forms.c.id, forms.c.origin, forms.c.version, forms.c.name, forms.c.name_en, forms.c.current,
            forms.c.seen_at)


def _form(row, with_data: bool = False) -> FormRow:  # type: ignore[no-untyped-def]
    return FormRow(row.id, row.origin, row.version, row.name, row.name_en, bool(row.current), row.seen_at,
                   row.data if with_data else "")


class FormVersions(Database):
    """Forms and their versions, the syncs' status, pins."""

    def remember_forms(self, found: Sequence[NewForm]) -> int:
        """After a sync: keep the versions not seen before, mark exactly these as current, record the success;
        how many versions were new."""
        now = self.clock()
        with self.transaction() as conn:
            known = set(conn.execute(select(forms.c.id).where(forms.c.id.in_([f.id for f in found]))).scalars()) \
                if found else set()
            new = [f for f in found if f.id not in known]
            for form in new:  # another sync at the same moment may have kept it first: the same version
                conn.execute(self._insert(forms).values(
                    id=form.id, origin="hire", version=form.version, name=form.name, name_en=form.name_en,
                    data=json.dumps(form.data, ensure_ascii=False), current=1, seen_at=now, updated_at=now,
                ).on_conflict_do_nothing(index_elements=[forms.c.id]))
            ids = [f.id for f in found]
            conn.execute(update(forms).where(forms.c.origin == "hire", forms.c.current == 1,
                                             forms.c.id.notin_(ids) if ids else forms.c.id.isnot(None))
                         .values(current=0, updated_at=now))
            if ids:
                conn.execute(update(forms).where(forms.c.id.in_(ids), forms.c.current == 0)
                             .values(current=1, updated_at=now))
            self._status(conn, now, ok=True, synced_at=now, forms=len(found))
            return len(new)

    def remember_local_form(self, form: NewForm, conn: Connection | None = None) -> None:
        """The local rubric in use: kept once per version (numbered in the order first seen), marked current."""
        if conn is None:
            with self.transaction() as own:
                self.remember_local_form(form, own)
            return
        now = self.clock()
        found = conn.execute(select(forms.c.current).where(forms.c.id == form.id)).first()
        if found is None:
            number = (conn.execute(select(func.max(forms.c.version)).where(forms.c.origin == "local")).scalar()
                      or 0) + 1
            conn.execute(self._insert(forms).values(  # instances starting together: the first one keeps it
                id=form.id, origin="local", version=number, name=form.name, name_en=form.name_en,
                data=json.dumps(form.data, ensure_ascii=False), current=0, seen_at=now, updated_at=now,
            ).on_conflict_do_nothing(index_elements=[forms.c.id]))
        if found is None or not found.current:
            conn.execute(update(forms).where(forms.c.origin == "local").values(
                current=case((forms.c.id == form.id, 1), else_=0), updated_at=now))

    def forms_failed(self, code: int | None, reason: str) -> bool:
        """Record a failed sync; True when the syncs were not already failing (so it is said once)."""
        now = self.clock()
        with self.transaction() as conn:
            before = conn.execute(select(form_syncs.c.ok).where(form_syncs.c.source == SOURCE)).first()
            self._status(conn, now, ok=False, failed_at=now, code=code, reason=reason)
            return before is None or bool(before.ok)

    def _status(self, conn: Connection, now: float, **values: object) -> None:
        statement = self._insert(form_syncs).values(source=SOURCE, updated_at=now, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=[form_syncs.c.source],
                                                     set_={k: statement.excluded[k] for k in (*values, "updated_at")}))

    def form_status(self) -> SyncStatus | None:
        """How the syncs from Hire went (None: never tried)."""
        with self._reading() as conn:
            row = conn.execute(select(form_syncs).where(form_syncs.c.source == SOURCE)).first()
        if row is None:
            return None
        return SyncStatus(bool(row.ok), row.synced_at, row.failed_at, row.code, row.reason, row.forms)

    def stored_forms(self, *, current_only: bool = False, with_data: bool = False) -> list[FormRow]:
        """Form versions, newest first within each name."""
        query = select(*_COLUMNS, *((forms.c.data,) if with_data else ()))
        if current_only:
            query = query.where(forms.c.current == 1)
        with self._reading() as conn:
            rows = conn.execute(query.order_by(forms.c.origin, forms.c.name, forms.c.version.desc())).all()
        return [_form(r, with_data) for r in rows]

    def stored_form(self, form_id: str) -> FormRow | None:
        """One version by its id, with its JSON."""
        with self._reading() as conn:
            row = conn.execute(select(*_COLUMNS, forms.c.data).where(forms.c.id == form_id)).first()
        return _form(row, True) if row is not None else None

    def form_choices(self) -> list[tuple[str | None, str | None, str | None, str | None]]:
        """Every assignment's (pinned version, the schedule's form, position, round): what decides its form."""
        with self._reading() as conn:
            return [tuple(r) for r in conn.execute(select(assignments.c.form_id, assignments.c.form,  # type: ignore[misc]
                                                          assignments.c.position, assignments.c.round)).all()]

    def form_pins(self) -> dict[str, int]:
        """How many assignments pinned each form version."""
        with self._reading() as conn:
            rows = conn.execute(select(assignments.c.form_id, func.count()).where(assignments.c.form_id.isnot(None))
                                .group_by(assignments.c.form_id)).all()
        return {form_id: count for form_id, count in rows}

    def pin_form(self, assignment_id: int, form_id: str, conn: Connection | None = None) -> None:
        """Pin the form version an assignment was first opened or written with (a pin is never moved)."""
        statement = (update(assignments).where(assignments.c.id == assignment_id, assignments.c.form_id.is_(None))
                     .values(form_id=form_id))
        if conn is not None:
            conn.execute(statement)
            return
        with self.transaction() as own:
            own.execute(statement)

    def plan_forms_sync(self, at: float, *, sooner: bool = False) -> None:
        """Make sure a sync job is planned: one is queued for `at` unless one is pending already (with `sooner`,
        a pending one planned later is brought forward to `at`)."""
        now = self.clock()
        with self.transaction() as conn:
            pending = conn.execute(select(jobs.c.id, jobs.c.run_after).where(
                jobs.c.kind == SyncForms.kind, jobs.c.status == "pending").order_by(jobs.c.run_after)).first()
            if pending is None:
                insert_job(conn, NewJob(SyncForms(), delay=max(0.0, at - now)), now)
            elif sooner and pending.run_after > at:
                conn.execute(update(jobs).where(jobs.c.id == pending.id).values(run_after=at, updated_at=now))
