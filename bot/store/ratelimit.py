"""The shared rate limit: call slots kept in the database, so every process shares it.

Slots are spaced, at least a second's share (1 s / `limit`) apart, rather than granted in bursts of `limit`:
a burst followed by a pause lets a request that left a little late land in the same second as the next burst,
which Feishu refuses (429). Spaced slots are never bunched, and no more than `limit` fall in any `window`, so the
sustained rate is `limit / window` and a call may leave up to `window` - 1 s late without a 429.
A caller reserves the next slot (up to HORIZON ahead) and sleeps until its time, so the database transaction
that reserves it is not part of the call's lateness.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, Insert, bindparam, select, update

from bot import metrics
from bot.store.engine import Database
from bot.store.schema import rate_hits, rate_limits

# How far ahead a slot may be reserved: enough for every runner thread of a process to hold the next one.
HORIZON = 0.5

_SLOT_LOCK = select(rate_limits.c.name).where(rate_limits.c.name == bindparam("p_name")).with_for_update()
_BLOCKED_UNTIL = select(rate_limits.c.blocked_until).where(rate_limits.c.name == bindparam("p_name"))
_RECENT_SLOTS = (select(rate_hits.c.at)
                 .where(rate_hits.c.name == bindparam("p_name"), rate_hits.c.at > bindparam("p_since"))
                 .order_by(rate_hits.c.at))
_NEW_SLOT = rate_hits.insert()


@dataclass(frozen=True)
class Pace:
    """A shared rate limit: `limit` calls in any `window` seconds, evenly spaced, counted under `name`."""

    name: str
    limit: int
    window: float


class RateLimits(Database):
    """Reserve a slot, wait for one, or pause every caller of a limit."""

    @cached_property
    def _new_limit(self) -> Insert:
        return self._insert(rate_limits).values(name=bindparam("p_name"), blocked_until=0.0).on_conflict_do_nothing()

    @cached_property
    def _slot_turn(self) -> threading.Lock:
        return threading.Lock()

    def take_slot(self, name: str, limit: int, window: float) -> float:
        """Take a slot free now (0.0), or learn how long to wait before asking again."""
        granted, delay = self.reserve_slot(name, limit, window, horizon=0.0)
        return 0.0 if granted else max(delay, 0.001)

    def reserve_slot(self, name: str, limit: int, window: float, horizon: float = HORIZON) -> tuple[bool, float]:
        """Reserve the next slot on the schedule if it is at most `horizon` away.

        (True, delay): the slot is ours, call in `delay` seconds. (False, delay): ask again in `delay` seconds.
        """
        with self._reading() as conn:  # most askers only learn how long to wait: no need for the write lock
            now = self.clock()
            at = self._next_slot(conn, name, limit, window, now)
        if at - now > horizon:
            return False, at - now - horizon
        with self.transaction() as conn:
            return self._book(conn, Pace(name, limit, window), horizon)

    def _book(self, conn: Connection, pace: Pace, horizon: float) -> tuple[bool, float]:
        """reserve_slot's booking, inside a writing transaction (a job's claim books its first call's slot)."""
        conn.execute(self._new_limit, {"p_name": pace.name})
        conn.execute(_SLOT_LOCK, {"p_name": pace.name})
        # Only now is the limit ours: a time read before waiting for the lock could reserve a slot already
        # past, and the call would go out late, bunched with the next one.
        now = self.clock()
        at = self._next_slot(conn, pace.name, pace.limit, pace.window, now)
        if at - now > horizon:
            return False, at - now - horizon
        conn.execute(_NEW_SLOT, {"name": pace.name, "at": at})
        return True, at - now

    def wait_for_slot(self, name: str, limit: int, window: float = 1.0,
                      sleep: Callable[[float], None] = time.sleep) -> None:
        """Block until the limit grants one call (evenly spaced; never more than `limit` in any `window`)."""
        # One thread of this process asks at a time: otherwise every waiting thread wakes when a slot frees
        # and all but one take the database's write lock for nothing, in front of acknowledgements.
        with self._slot_turn:
            while True:
                granted, delay = self.reserve_slot(name, limit, window)
                if granted:
                    break
                metrics.RATE_WAITS.inc()
                sleep(min(delay, 1.0))
        if delay > 0:  # outside the turn: the next thread reserves the following slot meanwhile
            sleep(delay)

    def _next_slot(self, conn: Connection, name: str, limit: int, window: float, now: float) -> float:
        """When the next slot falls: a second's share after the last, within the limit per window, not blocked."""
        blocked_until = conn.execute(_BLOCKED_UNTIL, {"p_name": name}).scalar_one_or_none() or 0.0
        at = max(now, blocked_until)
        recent = conn.execute(_RECENT_SLOTS, {"p_name": name, "p_since": at - window - window}).scalars().all()
        if recent:
            at = max(at, recent[-1] + min(window, 1.0) / limit)
            in_window = [t for t in recent if t > at - window]
            if len(in_window) >= limit:
                at = max(at, in_window[len(in_window) - limit] + window)
        return at

    def block(self, name: str, until: float) -> None:
        """Pause every caller of a limit until `until` (Feishu said we went too fast)."""
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": name})
            conn.execute(update(rate_limits).where(rate_limits.c.name == name, rate_limits.c.blocked_until < until)
                         .values(blocked_until=until))
