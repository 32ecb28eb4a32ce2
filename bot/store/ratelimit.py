"""The shared rate limit: every call's start and end kept in the database, so every process shares it.

Feishu counts a call when it reaches its gateway, which the bot cannot see: only that it happened after the
call was recorded as started and before its answer came back. So a call may start only while fewer than
`limit` calls could have reached Feishu within the last `window` seconds: calls still in flight, and calls
that ended less than `window` ago. Whatever delays a call between its start and its arrival (thread scheduling,
the HTTP client, the network), no `limit` + 1 calls ever reach Feishu within one `window`:

    take the call that started last among any limit + 1 that arrived within one window; every other one
    arrived, so ended, after that window's start, which is less than `window` before this one started —
    so each was counted when this one asked, and it would not have been let go.

A call whose process died before recording its end counts as ended STALE seconds after it started (a request
cannot reach Feishu later than its timeout). Checking and recording the start is one short transaction under the
limit's row lock, so processes take turns; the time is read inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, Insert, bindparam, or_, select, update

from bot.store.engine import Database
from bot.store.schema import rate_hits, rate_limits

STALE = 30.0  # seconds after its start a call with no recorded end counts as ended (timeouts are ≤ 10 s)
POLL = 0.02  # seconds between two looks while only calls in flight stand in the way (their ends are unknown)

_LIMIT_LOCK = select(rate_limits.c.name).where(rate_limits.c.name == bindparam("p_name")).with_for_update()
_BLOCKED_UNTIL = select(rate_limits.c.blocked_until).where(rate_limits.c.name == bindparam("p_name"))
_COUNTED = (select(rate_hits.c.at, rate_hits.c.ended_at)
            .where(rate_hits.c.name == bindparam("p_name"), rate_hits.c.at > bindparam("p_since"),
                   or_(rate_hits.c.ended_at.is_(None), rate_hits.c.ended_at > bindparam("p_after"))))
_END = update(rate_hits).where(rate_hits.c.id == bindparam("p_id")).values(ended_at=bindparam("p_ended"))


@dataclass(frozen=True)
class Pace:
    """A shared rate limit: at most `limit` calls reach the remote side in any `window` seconds, under `name`."""

    name: str
    limit: int
    window: float


class RateLimits(Database):
    """Start a call when the limit allows, record its end, or pause every caller of a limit."""

    @cached_property
    def _new_limit(self) -> Insert:
        return self._insert(rate_limits).values(name=bindparam("p_name"), blocked_until=0.0).on_conflict_do_nothing()

    @cached_property
    def _new_call(self) -> Insert:
        return rate_hits.insert().values(name=bindparam("p_name"), at=bindparam("p_at")).returning(rate_hits.c.id)

    def start_call(self, pace: Pace) -> tuple[int | None, float]:
        """Record a call starting now if the limit allows: (its id, 0.0); else (None, seconds to wait first)."""
        with self._reading() as conn:  # most askers only learn how long to wait: no need for the write lock
            delay = self._wait(conn, pace, self.clock())
        if delay > 0:
            return None, delay
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": pace.name})
            conn.execute(_LIMIT_LOCK, {"p_name": pace.name})
            now = self.clock()  # read once the limit is ours: the call starts after this instant
            delay = self._wait(conn, pace, now)
            if delay > 0:
                return None, delay
            return conn.execute(self._new_call, {"p_name": pace.name, "p_at": now}).scalar_one(), 0.0

    def end_call(self, call_id: int, ended_at: float) -> None:
        """Record when a call's answer came back (or it failed): it counts until `window` after that."""
        with self.transaction() as conn:
            conn.execute(_END, {"p_id": call_id, "p_ended": ended_at})

    def _wait(self, conn: Connection, pace: Pace, now: float) -> float:
        """Seconds until a call may start: none while fewer than `limit` calls count; not while blocked."""
        blocked_until = conn.execute(_BLOCKED_UNTIL, {"p_name": pace.name}).scalar_one_or_none() or 0.0
        if blocked_until > now:
            return blocked_until - now
        counted = conn.execute(_COUNTED, {"p_name": pace.name, "p_since": now - pace.window - STALE,
                                          "p_after": now - pace.window}).all()
        ends = sorted(at + STALE if ended is None else ended for at, ended in counted)  # in flight: end unknown
        ends = [end for end in ends if end > now - pace.window]
        if len(ends) < pace.limit:
            return 0.0
        # room comes `window` after enough of the counted calls ended; a call still in flight is looked at again
        # shortly, its end not known yet
        first_free = ends[len(ends) - pace.limit]
        if first_free > now:
            return min(POLL, first_free + pace.window - now)
        return max(first_free + pace.window - now, 0.001)

    def block(self, name: str, until: float) -> None:
        """Pause every caller of a limit until `until` (Feishu said we went too fast)."""
        with self.transaction() as conn:
            conn.execute(self._new_limit, {"p_name": name})
            conn.execute(update(rate_limits).where(rate_limits.c.name == name, rate_limits.c.blocked_until < until)
                         .values(blocked_until=until))
