"""Card callbacks of this process still open, waiting for their job's card (the inline answer of a form)."""

from __future__ import annotations

import threading


class Answer:
    """A card callback waiting for its job's card; whatever is offered after the deadline goes by API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.responded = threading.Event()  # set once the callback's HTTP answer has been sent
        self._closed = False
        self.card: dict | None = None
        self.toast: dict | None = None

    def offer(self, card: dict, toast: dict) -> bool:
        """Hand the final card to the waiting request; False if it has already answered."""
        with self._lock:
            if self._closed:
                return False
            self.card, self.toast = card, toast
            self.ready.set()
            return True

    def close(self, timeout: float) -> tuple[dict | None, dict | None]:
        """Wait up to `timeout` for a card, then stop accepting one."""
        self.ready.wait(timeout)
        with self._lock:
            self._closed = True
            return self.card, self.toast


class Answers:
    """The callbacks of this process still waiting for a job's card, by job id."""

    def __init__(self) -> None:
        self._open: dict[int, Answer] = {}

    def open(self, job_id: int) -> Answer:
        answer = self._open[job_id] = Answer()
        return answer

    def close(self, job_id: int) -> None:
        self._open.pop(job_id, None)

    def get(self, job_id: int) -> Answer | None:
        return self._open.get(job_id)
