"""The job runner: claim with a lease, execute, and retry by one table; plus the shared rate limit.

Retry discipline (one table, `decide`):
  1002001 / 1020001 / 2200 / HTTP 5xx / connection errors / timeouts / non-JSON answers
      -> retry with exponential back-off and full jitter, at most MAX_ATTEMPTS within MAX_AGE, then dead
  99991400 or HTTP 429 -> wait at least x-ogw-ratelimit-reset seconds (every process pauses), not an attempt
  invalid or expired tenant token -> drop the cached token once per process, retry at once
  1002002 and any other answer -> never retried: dead at once, the interviewer is told
A dead job tells the interviewer, with the values kept for "try again".
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.feishu import client as feishu
from bot.feishu.client import FeishuError
from bot.store import Job, Store, new_owner_id

log = logging.getLogger("assessbot.jobs")

MAX_ATTEMPTS = 5
MAX_AGE = 600.0  # seconds from submission within which transient failures are retried
MAX_RATE_LIMITED_AGE = 1800.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 120.0
TRANSIENT_CODES = frozenset({1002001, 1020001, 2200})
PATCH_LIMIT = "patch"


@dataclass(frozen=True)
class Retry:
    delay: float
    count_attempt: bool = True


@dataclass(frozen=True)
class GiveUp:
    reason: str


def backoff(attempt: int, rand: Callable[[float, float], float] = random.uniform) -> float:
    """Full jitter: a random wait between 0 and base·2^(attempt-1), capped."""
    return rand(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def transient(err: FeishuError) -> bool:
    return err.code is None or err.code in TRANSIENT_CODES or (err.status or 0) >= 500


def decide(err: FeishuError, job: Job, now: float, rand: Callable[[float, float], float] = random.uniform
           ) -> Retry | GiveUp:
    """What to do after a failed call: the retry table."""
    age = now - job.created_at
    if err.rate_limited:
        if age > MAX_RATE_LIMITED_AGE:
            return GiveUp("rate limited for too long")
        return Retry(max(err.reset or 1.0, 0.0) + rand(0.0, 0.5), count_attempt=False)
    if err.token_invalid:
        return Retry(0.0) if job.attempts < MAX_ATTEMPTS else GiveUp("tenant token rejected")
    if transient(err):
        delay = backoff(job.attempts, rand)
        if job.attempts >= MAX_ATTEMPTS or age + delay > MAX_AGE:
            return GiveUp("gave up after repeated failures")
        return Retry(delay)
    return GiveUp("rejected by Feishu")


class Executor(Protocol):
    """What one kind of job does; `dead` tells the interviewer when the job is given up."""

    def run(self, job: Job) -> None: ...

    def dead(self, job: Job, error: FeishuError | None) -> None:
        """Nothing to tell by default."""


class Runner:
    """Runs jobs from the store in background threads (or one at a time, for tests and inline answers)."""

    def __init__(self, store: Store, executors: dict[str, Executor], *, threads: int = 4, lease: float = 60.0,
                 poll: float = 0.5, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[float, float], float] = random.uniform,
                 purge: Callable[[], object] | None = None, purge_every: float = 600.0):
        self.store = store
        self.executors = executors
        self.threads = threads
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self._purge = purge
        self._purge_every = purge_every
        self._wake = threading.Condition()
        self._slot_turn = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._last_purge = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._workers or self.threads <= 0:
            return
        self._stop.clear()
        for n in range(self.threads):
            worker = threading.Thread(target=self._loop, name=f"assessbot-jobs-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake()
        for worker in self._workers:
            worker.join(timeout)
        self._workers = []

    def wake(self) -> None:
        """A job was just committed by this process: look now rather than at the next poll."""
        with self._wake:
            self._wake.notify_all()

    def _loop(self) -> None:
        owner = new_owner_id()
        while not self._stop.is_set():
            try:
                ran = self.run_once(owner)
                self._maybe_purge()
            except Exception:  # the loop must survive a database hiccup
                log.exception("job loop failed; continuing")
                ran = False
            if not ran:
                with self._wake:
                    self._wake.wait(self.poll)

    def _maybe_purge(self) -> None:
        now = self.clock()
        if self._purge is not None and now - self._last_purge >= self._purge_every:
            self._last_purge = now
            counts = self._purge()
            log.info("purged old records", extra={"purged": counts})

    def drain(self, limit: int = 1000) -> int:
        """Run due jobs in this thread until none is left (tests, the worker's shutdown)."""
        ran = 0
        while ran < limit and self.run_once():
            ran += 1
        return ran

    # -- one job ---------------------------------------------------------------------------------------

    def run_once(self, owner: str | None = None, job_id: int | None = None) -> bool:
        """Claim and execute one job; False when nothing was due."""
        job = self.store.claim(owner or new_owner_id(), self.lease, job_id)
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: Job) -> None:
        """Run a claimed job and settle it: done, retried later, or dead (interviewer told)."""
        executor = self.executors.get(job.kind)
        context = {"job_id": job.id, "event_id": job.payload.get("event_id"), "assessment_id": job.assessment_id,
                   "kind": job.kind, "attempt": job.attempts}
        if executor is None:
            log.error("no executor for job kind", extra=context)
            self.store.finish(job, "dead", "unknown job kind")
            return
        generation = feishu.token_generation()
        try:
            executor.run(job)
        except FeishuError as err:
            context.update(code=err.code, log_id=err.log_id, status=err.status)
            self._failed(job, executor, err, generation, context)
            return
        except Exception as exc:  # a bug or a database error: bounded retries, then dead
            log.exception("job raised", extra=context)
            self._failed(job, executor, FeishuError(None, f"internal error: {type(exc).__name__}"), generation,
                         context, internal=True)
            return
        if self.store.finish(job):
            log.info("job done", extra=context)
        else:
            log.warning("job finished after its lease was lost", extra=context)

    def _failed(self, job: Job, executor: Executor, err: FeishuError, generation: int, context: dict,
                internal: bool = False) -> None:
        now = self.clock()
        if err.token_invalid:
            feishu.drop_token(generation)
        if err.rate_limited and job.kind == "write":
            self.store.block(PATCH_LIMIT, now + max(err.reset or 1.0, 0.0))
        verdict = decide(err, job, now, self.rand)
        if isinstance(verdict, Retry):
            log.warning("job will be retried", extra={**context, "delay": round(verdict.delay, 3)})
            if job.kind == "write":  # every write attempt is audited, failed ones too
                self.store.record(job.payload.get("actor", "?"), job.assessment_id, "write", "retry",
                                  {"version": job.version, "attempt": job.attempts, "code": err.code}, err.log_id)
            self.store.retry_later(job, verdict.delay, _describe(err), count_attempt=verdict.count_attempt)
            return
        log.error("job is dead", extra={**context, "reason": verdict.reason})
        if self.store.finish(job, "dead", _describe(err)):
            try:
                executor.dead(job, None if internal else err)
            except Exception:
                log.exception("could not tell the interviewer that a job failed", extra=context)

    # -- the shared rate limit -------------------------------------------------------------------------

    def wait_for_slot(self, limit: int, window: float = 1.0, name: str = PATCH_LIMIT) -> None:
        """Block until the shared limiter grants one call (never more than `limit` in any `window`)."""
        # One thread of this process asks at a time: otherwise every waiting thread wakes when a slot frees
        # and all but one take the database's write lock for nothing, in front of acknowledgements.
        with self._slot_turn:
            while True:
                wait = self.store.take_slot(name, limit, window)
                if wait <= 0:
                    return
                self.sleep(min(wait, 1.0))


def _describe(err: FeishuError) -> str:
    return f"{err.code}: {err.msg}" + (f" (log_id {err.log_id})" if err.log_id else "")
