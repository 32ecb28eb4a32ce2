"""Waiting for what another thread or process does: poll, with a generous bound that only a hang reaches."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 15.0) -> T:
    """Poll until `check()` is truthy; its value. Fails (it does not time anything) when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value
