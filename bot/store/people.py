"""People: open_ids of the emails and mobiles a schedule names, and display names, as Feishu gave them (caches
that jobs and imports fill; nothing here calls Feishu)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from bot.store.engine import Database
from bot.store.schema import names, people


class People(Database):
    """Who is who: refs to open_ids, open_ids to names."""

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

    def names(self, open_ids: Iterable[str], since: float = 0.0) -> dict[str, str | None]:
        """The names known of these people, fetched at or after `since` (None: Feishu would not say)."""
        wanted = sorted(set(open_ids))
        found: dict[str, str | None] = {}
        with self._reading() as conn:
            for start in range(0, len(wanted), 500):
                query = select(names.c.open_id, names.c.name).where(
                    names.c.open_id.in_(wanted[start:start + 500]), names.c.fetched_at >= since)
                found.update((row.open_id, row.name) for row in conn.execute(query))
        return found

    def remember_names(self, found: Mapping[str, str | None]) -> None:
        """Keep what Feishu said: open_id -> name (None: it would not say), as of now."""
        if not found:
            return
        now = self.clock()
        rows = [{"open_id": open_id, "name": name, "fetched_at": now} for open_id, name in sorted(found.items())]
        with self.transaction() as conn:
            for start in range(0, len(rows), 500):
                statement = self._insert(names).values(rows[start:start + 500])
                conn.execute(statement.on_conflict_do_update(
                    index_elements=[names.c.open_id],
                    set_={"name": statement.excluded.name, "fetched_at": statement.excluded.fetched_at}))
