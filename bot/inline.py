"""A click answered with its job's card: the card callback waits, within Feishu's 3 s, for the job it committed.

The whole mechanism lives here. The request commits the job, then `answer` opens a wait, runs the job in a
pool thread and closes the wait after the budget: the answer carries the job's card when it came in time,
else a "saving…" card. The job hands its card over with `offer`; a card offered too late goes by delayed
update, and only after the callback's answer is on the wire (its `after`), or Feishu would show the older one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.answer import Answer
from cards.elements import toast
from cards.limits import callback_answer

OFFERED_LATE_WAIT = 5.0  # seconds a job whose callback has answered already waits for that answer to be sent
SAVING = toast("info", "正在保存，完成后卡片会自动更新。", "Saving; this card updates when done.")


class _Wait:
    """One callback waiting for its job's card."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.sent = threading.Event()  # the callback's answer is on the wire
        self.closed = False
        self.card: dict | None = None
        self.toast: dict | None = None


class InlineAnswers:
    """The card callbacks of this process waiting for a job's card, by job id."""

    def __init__(self, threads: int = 8) -> None:
        self._open: dict[int, _Wait] = {}
        self._pool = ThreadPoolExecutor(threads, "assessbot-inline")

    def answer(self, job_id: int, budget: float, run: Callable[[], object], saving: Callable[[], dict | None],
               note: dict = SAVING) -> Answer:
        """Run the job now (`run`, in a pool thread) and answer with its card if it comes within `budget` seconds,
        else with the card `saving` builds (None: the clicked card stays) and `note`; either way, later cards of
        the job come after this answer."""
        wait = self._open[job_id] = _Wait()
        self._pool.submit(run).add_done_callback(lambda _: wait.ready.set())
        wait.ready.wait(budget)
        with wait._lock:
            wait.closed = True
            card, offered = wait.card, wait.toast

        def after() -> None:
            wait.sent.set()
            self._open.pop(job_id, None)

        if card is not None:
            return Answer(200, callback_answer(card, offered), after)
        return Answer(200, callback_answer(saving(), note), after)

    def waiting(self, job_id: int) -> bool:
        """Whether a callback waits for this job's card (its card should show what is recorded first)."""
        return job_id in self._open

    def offer(self, job_id: int, card: dict, note: dict | None) -> bool:
        """Hand the job's final card to its waiting callback; False when none takes it (deliver it then, and by
        now any callback of this job has answered)."""
        wait = self._open.get(job_id)
        if wait is None:
            return False
        with wait._lock:
            if not wait.closed:
                wait.card, wait.toast = card, note
                wait.ready.set()
                return True
        wait.sent.wait(OFFERED_LATE_WAIT)  # a delayed update must come after the callback's answer
        return False

    def shutdown(self, wait: bool = False) -> None:
        """Stop the pool (`wait`: until the jobs it runs have finished)."""
        self._pool.shutdown(wait=wait)
