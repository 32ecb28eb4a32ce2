"""The requests this process is answering, which its job runner's threads let finish first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

LULL_AT_MOST = 0.05  # seconds a runner thread waits, before its next job, for this process's requests to finish


class InFlight:
    """The requests this process is answering: the job runner's threads let them finish before they start a job
    (or a job's next step), so an acknowledgement rarely waits for a runner's turn at the CPU (Python runs one
    thread at a time)."""

    def __init__(self) -> None:
        self._count = 0
        self._quiet = threading.Condition()
        self._local = threading.local()

    def background(self) -> None:
        """Mark this thread as one that gives way (a runner's loop); elsewhere `lull` returns at once, as a job
        run for a waiting request (a card callback's inline answer) must not wait for that request."""
        self._local.background = True

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count one request in while it is answered."""
        with self._quiet:
            self._count += 1
        self._local.serving = getattr(self._local, "serving", 0) + 1
        try:
            yield
        finally:
            self._local.serving -= 1
            with self._quiet:
                self._count -= 1
                if not self._count:
                    self._quiet.notify_all()

    def answering_here(self) -> bool:
        """Whether this thread is answering a request now (nothing but the database may be called then)."""
        return getattr(self._local, "serving", 0) > 0

    def lull(self, at_most: float = LULL_AT_MOST) -> None:
        """In a background thread: wait until no request is being answered, for `at_most` seconds at most."""
        if not getattr(self._local, "background", False):
            return
        with self._quiet:
            self._quiet.wait_for(lambda: not self._count, at_most)
