"""A call under a shared rate limit, from a job: wait for room, then count it from its start to its answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from bot import metrics
from bot.store.ratelimit import Pace

_TURN = threading.Lock()  # one thread of this process asks at a time (see paced)


class Limits(Protocol):
    """The store's side of the shared limit (bot/store/ratelimit.py)."""

    def clock(self) -> float: ...
    def start_call(self, pace: Pace) -> tuple[int | None, float]: ...
    def end_call(self, call_id: int, ended_at: float) -> None: ...


@contextmanager
def paced(limits: Limits, pace: Pace, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Run the body as one call under the limit: wait for room, record its start, then its end."""
    # One thread of this process asks at a time: otherwise every waiting thread wakes when room frees and all
    # but one take the database's write lock for nothing, in front of acknowledgements.
    with _TURN:
        while True:
            call_id, delay = limits.start_call(pace)
            if call_id is not None:
                break
            metrics.RATE_WAITS.inc()
            sleep(min(delay, 1.0))
    try:
        yield
    finally:
        limits.end_call(call_id, limits.clock())
