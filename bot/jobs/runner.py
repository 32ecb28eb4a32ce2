"""The job runner: claim with a lease, execute, settle by the retry table. It names no job kind.

Each kind of job is an Executor (bot/jobs/__init__.py lists them); what a failure means is the retry
table's business (bot/jobs/retry.py); leases, versions and the shared rate limit live in the store.

While the database is unavailable the runner waits, backing off up to OUTAGE_CAP seconds; the store logs when
it stops and starts answering, once each. A job caught mid-way is handed back the moment the database returns,
not when its lease runs out.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from bot.jobs.retry import Failure, Retry, as_failure, decide, describe
from bot.store import Job, Pace, Store, Unavailable, new_owner_id

log = logging.getLogger("assessbot.jobs")

OUTAGE_FIRST = 0.25  # seconds before asking an unavailable database again, doubling up to OUTAGE_CAP
OUTAGE_CAP = 4.0
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
        try:
            yield
        finally:
            with self._quiet:
                self._count -= 1
                if not self._count:
                    self._quiet.notify_all()

    def lull(self, at_most: float = LULL_AT_MOST) -> None:
        """In a background thread: wait until no request is being answered, for `at_most` seconds at most."""
        if not getattr(self._local, "background", False):
            return
        with self._quiet:
            self._quiet.wait_for(lambda: not self._count, at_most)


class Executor(Protocol):
    """What one kind of job does.

    `limit` is the shared rate limit its calls count against (paused for everyone when the remote side says
    "too fast"; the slot of a job's first call is booked with its claim, `Job.slot_at`); `retrying` hears of
    each failed attempt that will be retried; `dead` tells the person when the job is given up.
    """

    limit: Pace | None

    def run(self, job: Job) -> bool | None:
        """Do the job; True when it also recorded the job done (in the transaction that recorded its effect)."""

    def retrying(self, job: Job, error: Failure) -> None: ...

    def dead(self, job: Job, error: Failure | None) -> None: ...


class Tokens(Protocol):
    """The process's cached access token, which a rejection makes the runner drop once."""

    def generation(self) -> int: ...

    def drop(self, seen_generation: int) -> bool: ...


class Runner:
    """Runs jobs from the store in background threads (or one at a time, for tests and inline answers)."""

    def __init__(self, store: Store, executors: dict[str, Executor], *, threads: int = 4, lease: float = 60.0,
                 poll: float = 0.5, clock: Callable[[], float] = time.time,
                 rand: Callable[[float, float], float] = random.uniform,
                 purge: Callable[[], object] | None = None, purge_every: float = 600.0, tokens: Tokens | None = None,
                 in_flight: InFlight | None = None):
        self.store = store
        self.in_flight = in_flight or InFlight()
        self.tokens = tokens
        self.executors = executors
        self._paces = {kind: ex.limit for kind, ex in executors.items() if ex.limit is not None}
        self.threads = threads
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self.rand = rand
        self._purge = purge
        self._purge_every = purge_every
        self._wake = threading.Condition()
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
        self.in_flight.background()
        failures = 0
        while not self._stop.is_set():
            self.in_flight.lull()
            try:
                ran = self.run_once(owner)
                self._maybe_purge()
                failures = 0
            except Unavailable:  # already logged by the store, once per outage
                failures += 1
                self._stop.wait(self.outage_delay(failures))
                continue
            except Exception:  # the loop must survive anything
                log.exception("job loop failed; continuing")
                ran = False
            if not ran:
                with self._wake:
                    self._wake.wait(self.poll)

    def _maybe_purge(self) -> None:
        now = self.clock()
        if self._purge is not None and now - self._last_purge >= self._purge_every:
            self._last_purge = now
            started = time.monotonic()
            counts = self._purge()
            log.info("purged old records", extra={"purged": counts, "seconds": round(time.monotonic() - started, 3)})

    def outage_delay(self, failures: int) -> float:
        """How long to wait after the n-th failure in a row to reach the database: doubling, capped, jittered."""
        ceiling = min(OUTAGE_CAP, OUTAGE_FIRST * 2 ** (min(failures, 20) - 1))
        return self.rand(ceiling / 2, ceiling)

    def drain(self, limit: int = 1000) -> int:
        """Run due jobs in this thread until none is left (tests, the worker's shutdown)."""
        ran = 0
        while ran < limit and self.run_once():
            ran += 1
        return ran

    # -- one job ---------------------------------------------------------------------------------------

    def run_once(self, owner: str | None = None, job_id: int | None = None) -> bool:
        """Claim and execute one job; False when nothing was due."""
        job = self.store.claim(owner or new_owner_id(), self.lease, job_id, self._paces)
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
        generation = self.tokens.generation() if self.tokens else 0
        try:
            recorded = executor.run(job)
        except Unavailable:  # not the job's fault: hand it back once the database returns, attempt not counted
            self._settle(job, lambda: self.store.retry_later(job, 0.0, "database unavailable", count_attempt=False))
            return
        except Exception as exc:
            err, internal = as_failure(exc)
            if internal:  # a bug or a database error: bounded retries, then dead
                log.exception("job raised", extra=context)
            else:
                context.update(code=err.code, log_id=err.log_id, status=err.status)
            self._failed(job, executor, err, generation, context, internal=internal)
            return
        finished = True if recorded is True else self._settle(job, lambda: self.store.finish(job))
        if finished:
            log.info("job done", extra=context)
        elif finished is False:
            log.warning("job finished after its lease was lost", extra=context)

    def _settle(self, job: Job, record: Callable[[], bool]) -> bool | None:
        """Record what became of a job, waiting out a database outage while the lease lasts (None: gave up).

        Giving up is safe: once the lease runs out another runner takes the job again, and every job kind
        may run twice (versions and uuids make the repeat harmless); waiting here only makes it sooner.
        """
        until = time.monotonic() + self.lease
        failures = 0
        while True:
            try:
                return record()
            except Unavailable:
                failures += 1
                if time.monotonic() >= until or self._stop.is_set():
                    log.warning("could not record a job's result; it runs again once its lease ends",
                                extra={"job_id": job.id, "kind": job.kind})
                    return None
                self._stop.wait(self.outage_delay(failures))

    def _failed(self, job: Job, executor: Executor, err: Failure, generation: int, context: dict,
                internal: bool = False) -> None:
        now = self.clock()
        if err.token_invalid and self.tokens:
            self.tokens.drop(generation)
        if err.rate_limited and executor.limit:
            self.store.block(executor.limit.name, now + max(err.reset or 1.0, 0.0))
        verdict = decide(err, job, now, self.rand)
        if isinstance(verdict, Retry):
            log.warning("job will be retried", extra={**context, "delay": round(verdict.delay, 3)})
            executor.retrying(job, err)
            self._settle(job, lambda: self.store.retry_later(job, verdict.delay, describe(err),
                                                             count_attempt=verdict.count_attempt))
            return
        log.error("job is dead", extra={**context, "reason": verdict.reason})
        if self._settle(job, lambda: self.store.finish(job, "dead", describe(err))):
            try:
                executor.dead(job, None if internal else err)
            except Exception:
                log.exception("could not tell the interviewer that a job failed", extra=context)
