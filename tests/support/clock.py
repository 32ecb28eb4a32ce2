"""A clock tests move by hand."""

from __future__ import annotations

import threading

from tests.support.ids import START


class FakeClock:
    """A clock tests move by hand; `sleep` moves it instead of waiting."""

    def __init__(self, now: float = START):
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)
