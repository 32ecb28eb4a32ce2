"""The tables schedules are read from (a Bitable, followed or imported once): where each is, the column the bot
writes each record's state into, and what it last wrote there. The assignments a table states carry its name and
their record (`assignments.source`, `record_id`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from bot.store.engine import Database
from bot.store.schedule import Assignment, _row
from bot.store.schema import assignments, schedule_sources, source_records


@dataclass(frozen=True)
class Source:
    """A table schedules come from, as last read."""

    source: str
    url: str
    status_field: str | None
    synced_at: float | None
    subscribed_at: float | None
    subscribe_tried_at: float | None
    error: str | None


class Sources(Database):
    """Tables read as schedules, and the statuses written back to their records."""

    def remember_source(self, source: str, url: str, status_field: str | None, synced_at: float | None) -> None:
        """Note a table just read: its link, its status column, when (the last failure is forgotten)."""
        now = self.clock()
        with self.transaction() as conn:
            new = self._insert(schedule_sources).values(source=source, url=url, status_field=status_field,
                                                        synced_at=synced_at, updated_at=now)
            conn.execute(new.on_conflict_do_update(index_elements=[schedule_sources.c.source], set_={
                "url": new.excluded.url, "status_field": new.excluded.status_field,
                "synced_at": new.excluded.synced_at, "error": None, "updated_at": now}))

    def mark_source(self, source: str, **values: object) -> None:
        """Record a failure (`error`) or a subscription (`subscribed_at`, `subscribe_tried_at`) of a table."""
        with self.transaction() as conn:
            conn.execute(update(schedule_sources).where(schedule_sources.c.source == source)
                         .values(updated_at=self.clock(), **values))

    def source(self, source: str) -> Source | None:
        with self._reading() as conn:
            row = conn.execute(select(schedule_sources).where(schedule_sources.c.source == source)).first()
        if row is None:
            return None
        return Source(row.source, row.url, row.status_field, row.synced_at, row.subscribed_at,
                      row.subscribe_tried_at, row.error)

    def source_assignments(self, source: str) -> list[Assignment]:
        """Every assignment a table stated (running or not), by record then id."""
        query = (select(assignments).where(assignments.c.source == source)
                 .order_by(assignments.c.record_id, assignments.c.id))
        with self._reading() as conn:
            return [_row(r) for r in conn.execute(query).all()]

    def written_statuses(self, source: str) -> dict[str, str | None]:
        """record_id -> the status the bot last wrote into it."""
        query = select(source_records.c.record_id, source_records.c.written).where(source_records.c.source == source)
        with self._reading() as conn:
            return {row.record_id: row.written for row in conn.execute(query)}

    def status_written(self, source: str, record_id: str, written: str) -> None:
        """Remember the status just written into a record."""
        now = self.clock()
        with self.transaction() as conn:
            new = self._insert(source_records).values(source=source, record_id=record_id, written=written,
                                                      updated_at=now)
            conn.execute(new.on_conflict_do_update(
                index_elements=[source_records.c.source, source_records.c.record_id],
                set_={"written": new.excluded.written, "updated_at": now}))
