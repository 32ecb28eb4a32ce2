"""The job runner: claim with a lease, execute, settle by the retry table. It names no job kind.

Each kind of job is an Executor (bot/jobs/base.py; bot/jobs/__init__.py lists them); what a failure means is the retry
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
from collections.abc import Callable
from typing import Protocol

from bot.contract import Job, Unreadable
from bot.inflight import InFlight
from bot.jobs.base import Executor
from bot.jobs.retry import Failure, Retry, as_failure, decide, describe
from bot.store import Store, Unavailable, new_owner_id

log = logging.getLogger("assessbot.jobs")

IDLE_AT_MOST = 30.0  # seconds a thread that does not watch sleeps, if nothing wakes it sooner
OUTAGE_FIRST = 0.25  # seconds before asking an unavailable database again, doubling up to OUTAGE_CAP
OUTAGE_CAP = 4.0


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
        self.threads = threads
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self.rand = rand
        self._purge = purge
        self._purge_every = purge_every
        self._wake = threading.Condition()
        self._watched = False  # an idle thread is watching the database
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
        """Run jobs until stopped. Of the idle threads one watches the database (every `poll` seconds, for jobs
        other processes committed or whose time came); the others sleep until it or this process's requests find
        work, so an idle runner costs one short read per `poll`, not one per thread."""
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
            if ran:  # more may be waiting: one sleeping thread looks too (and, if it finds work, wakes the next)
                with self._wake:
                    self._wake.notify()
            else:
                self._idle()

    def _idle(self) -> None:
        """Sleep until woken: `poll` seconds when no other idle thread is watching the database, else longer."""
        with self._wake:
            watching = not self._watched
            self._watched = self._watched or watching
            try:
                self._wake.wait(self.poll if watching else IDLE_AT_MOST)
            finally:
                if watching:
                    self._watched = False

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
        job = self.store.claim(owner or new_owner_id(), self.lease, job_id)
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: Job) -> None:
        """Run a claimed job and settle it: done, retried later, or dead (interviewer told)."""
        executor = self.executors.get(job.kind)
        context = {"job_id": job.id, "event_id": getattr(job.payload, "event_id", None),
                   "assessment_key": job.assessment_key, "kind": job.kind, "attempt": job.attempts}
        if isinstance(job.payload, Unreadable) or executor is None:
            reason = job.payload.reason if isinstance(job.payload, Unreadable) else "no executor for this job kind"
            log.error("job cannot be run", extra={**context, "reason": reason})
            self.store.finish(job, "dead", reason)
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
