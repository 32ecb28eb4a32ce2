"""People: open_ids of the emails and mobiles a schedule names, and display names, as Feishu gave them (caches
that jobs and imports fill; nothing here calls Feishu)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Column, Table, select

from bot.store.engine import Database
from bot.store.schema import names, people

BATCH = 500  # keys per statement


class People(Database):
    """Who is who: refs to open_ids, open_ids to names."""

    def people(self, refs: Iterable[str], since: float) -> dict[str, str]:
        """The open_ids of emails and mobiles resolved at or after `since`."""
        return self._cached(people.c.ref, people.c.open_id, people.c.resolved_at, refs, since)

    def remember_people(self, found: Mapping[str, str]) -> None:
        """Cache what Feishu said: email or mobile -> open_id, as of now."""
        self._remember(people, "ref", "open_id", "resolved_at", found)

    def names(self, open_ids: Iterable[str], since: float = 0.0) -> dict[str, str | None]:
        """The names known of these people, fetched at or after `since` (None: Feishu would not say)."""
        return self._cached(names.c.open_id, names.c.name, names.c.fetched_at, open_ids, since)

    def remember_names(self, found: Mapping[str, str | None]) -> None:
        """Keep what Feishu said: open_id -> name (None: it would not say), as of now."""
        self._remember(names, "open_id", "name", "fetched_at", found)

    def _cached(self, key: Column, value: Column, stamp: Column, keys: Iterable[str], since: float) -> dict:
        """key -> value for these keys, of rows stamped at or after `since`."""
        wanted = sorted(set(keys))
        found: dict = {}
        with self._reading() as conn:
            for start in range(0, len(wanted), BATCH):
                query = select(key, value).where(key.in_(wanted[start:start + BATCH]), stamp >= since)
                found.update((row[0], row[1]) for row in conn.execute(query))
        return found

    def _remember(self, table: Table, key: str, value: str, stamp: str, found: Mapping[str, str | None]) -> None:
        """Insert or replace key -> value, stamped now."""
        if not found:
            return
        now = self.clock()
        rows = [{key: k, value: v, stamp: now} for k, v in sorted(found.items())]
        with self.transaction() as conn:
            for start in range(0, len(rows), BATCH):
                statement = self._insert(table).values(rows[start:start + BATCH])
                conn.execute(statement.on_conflict_do_update(
                    index_elements=[table.c[key]],
                    set_={value: statement.excluded[value], stamp: statement.excluded[stamp]}))
