"""The shared rate limit: a sliding window of call slots kept in the database, so every process shares it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import cached_property

from sqlalchemy import Connection, Insert, bindparam, select, update

from bot import metrics
from bot.store.engine import Database
from bot.store.schema import rate_hits, rate_limits

_SLOT_LOCK = select(rate_limits.c.name).where(rate_limits.c.name == bindparam("p_name")).with_for_update()
_BLOCKED_UNTIL = select(rate_limits.c.blocked_until).where(rate_limits.c.name == bindparam("p_name"))
_RECENT_SLOTS = (select(rate_hits.c.at)
                 .where(rate_hits.c.name == bindparam("p_name"), rate_hits.c.at > bindparam("p_since"))
                 .order_by(rate_hits.c.at))
_NEW_SLOT = rate_hits.insert()


class RateLimits(Database):
    """Take a slot, wait for one, or pause every caller of a limit."""

    @cached_property
    def _new_limit(self) -> Insert:
        return self._insert(rate_limits).values(name=bindparam("p_name"), blocked_until=0.0).on_conflict_do_nothing()

    @cached_property
    def _slot_turn(self) -> threading.Lock:
        return threading.Lock()

    def take_slot(self, name: str, limit: int, window: float) -> float:
        """Take one call slot if fewer than `limit` were taken in the last `window` seconds; else the wait.

        Returns 0.0 when the slot is taken, otherwise how long to wait before asking again.
        """
        with self._reading() as conn:  # most askers only learn how long to wait: no need for the write lock
            wait = self._slot_wait(conn, name, limit, window, self.clock())
        if wait > 0:
            return wait
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": name})
            conn.execute(_SLOT_LOCK, {"p_name": name})
            # Only now is the limit ours: a time read before waiting for the lock would log the slot too early,
            # and with many callers queued the calls would reach Feishu bunched tighter than the window.
            now = self.clock()
            wait = self._slot_wait(conn, name, limit, window, now)
            if wait <= 0:
                conn.execute(_NEW_SLOT, {"name": name, "at": now})
            return wait

    def wait_for_slot(self, name: str, limit: int, window: float = 1.0,
                      sleep: Callable[[float], None] = time.sleep) -> None:
        """Block until the limit grants one call (never more than `limit` in any `window`)."""
        # One thread of this process asks at a time: otherwise every waiting thread wakes when a slot frees
        # and all but one take the database's write lock for nothing, in front of acknowledgements.
        with self._slot_turn:
            while True:
                wait = self.take_slot(name, limit, window)
                if wait <= 0:
                    return
                metrics.RATE_WAITS.inc()
                sleep(min(wait, 1.0))

    def _slot_wait(self, conn: Connection, name: str, limit: int, window: float, now: float) -> float:
        """How long until the limit has a free slot at `now` (0.0: one is free)."""
        blocked_until = conn.execute(_BLOCKED_UNTIL, {"p_name": name}).scalar_one_or_none() or 0.0
        if blocked_until > now:
            return blocked_until - now
        recent = conn.execute(_RECENT_SLOTS, {"p_name": name, "p_since": now - window}).scalars().all()
        return max(recent[len(recent) - limit] + window - now, 0.001) if len(recent) >= limit else 0.0

    def block(self, name: str, until: float) -> None:
        """Pause every caller of a limit until `until` (Feishu said we went too fast)."""
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": name})
            conn.execute(update(rate_limits).where(rate_limits.c.name == name, rate_limits.c.blocked_until < until)
                         .values(blocked_until=until))
