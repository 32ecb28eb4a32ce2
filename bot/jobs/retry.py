"""The retry table: what to do after a failed call, decided in one place.

  1002001 / 1020001 / 2200 / HTTP 5xx / connection errors / timeouts / non-JSON answers
      -> retry with exponential back-off and full jitter, at most MAX_ATTEMPTS within MAX_AGE, then dead
  99991400 or HTTP 429 -> wait at least x-ogw-ratelimit-reset seconds (every process pauses), not an attempt
  invalid or expired tenant token -> drop the cached token once per process, retry at once
  1002002 and any other answer -> never retried: dead at once, the interviewer is told
A dead job tells the interviewer, with the values kept for "try again".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bot.feishu.client import FeishuError
from bot.store import Job

MAX_ATTEMPTS = 5
MAX_AGE = 600.0  # seconds from submission within which transient failures are retried
MAX_RATE_LIMITED_AGE = 1800.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 120.0
TRANSIENT_CODES = frozenset({1002001, 1020001, 2200})


@dataclass(frozen=True)
class Retry:
    delay: float
    count_attempt: bool = True


@dataclass(frozen=True)
class GiveUp:
    reason: str


Failure = FeishuError  # what a job's call raises when the remote side refused or could not be reached


def as_failure(exc: Exception) -> tuple[Failure, bool]:
    """The failure an exception stands for, and whether it was internal (a bug or a database error)."""
    if isinstance(exc, FeishuError):
        return exc, False
    return FeishuError(None, f"internal error: {type(exc).__name__}"), True


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


def describe(err: FeishuError) -> str:
    """The error as kept on the job row: code, message and log id."""
    return f"{err.code}: {err.msg}" + (f" (log_id {err.log_id})" if err.log_id else "")
