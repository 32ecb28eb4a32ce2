"""Leases: one holder at a time across every process and instance sharing the database, with the state it reports.

A holder renews its lease well before it expires; one that stops renewing (killed, cut off) loses it at
`expires_at`, and the next process to ask takes it over. Used so that one process per deployment runs the long
connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Insert, select, update

from bot.store.engine import Database
from bot.store.schema import leases


@dataclass(frozen=True)
class Lease:
    """Who holds a lease (None: nobody), until when (epoch seconds), and what the holder last reported."""

    name: str
    holder: str | None
    expires_at: float
    state: dict
    updated_at: float

    def held(self, now: float) -> bool:
        return self.holder is not None and self.expires_at > now


class Leases(Database):
    """Take, renew, release and read leases."""

    @cached_property
    def _new_lease(self) -> Insert:
        return self._insert(leases).values(holder=None, expires_at=0.0, state_json="{}",
                                           updated_at=0.0).on_conflict_do_nothing()

    def hold_lease(self, name: str, holder: str, ttl: float, state: dict) -> bool:
        """Take or renew `name` for `ttl` seconds and record `state`; False when someone else holds it."""
        with self.transaction() as conn:
            conn.execute(self._new_lease, {"name": name})
            row = conn.execute(select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)
                               .with_for_update()).one()
            now = self.clock()
            if row.holder not in (None, holder) and row.expires_at > now:
                return False
            conn.execute(update(leases).where(leases.c.name == name).values(
                holder=holder, expires_at=now + ttl, state_json=json.dumps(state), updated_at=now))
            return True

    def release_lease(self, name: str, holder: str, state: dict) -> bool:
        """Give `name` up if `holder` still has it, leaving `state` as the last word; whether it did."""
        with self.transaction() as conn:
            return conn.execute(update(leases).where(leases.c.name == name, leases.c.holder == holder).values(
                holder=None, expires_at=0.0, state_json=json.dumps(state), updated_at=self.clock())).rowcount > 0

    def lease(self, name: str) -> Lease | None:
        """The lease as stored, or None if nobody ever took it."""
        with self._reading() as conn:
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        try:
            state = json.loads(row.state_json)
        except ValueError:
            state = {}
        return Lease(row.name, row.holder, row.expires_at, state if isinstance(state, dict) else {}, row.updated_at)
