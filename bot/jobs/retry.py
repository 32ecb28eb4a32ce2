"""The retry table: what to do after a failed call, decided in one place.

  1002001 / 1020001 / 2200 / HTTP 5xx / connection errors / timeouts / non-JSON answers
      -> retry with exponential back-off and full jitter, at most MAX_ATTEMPTS within MAX_AGE, then dead
  99991400 or HTTP 429 -> wait at least x-ogw-ratelimit-reset seconds (every process pauses), not an attempt
  invalid or expired tenant token -> drop the cached token once per process, retry at once
  1002002 and any other answer -> never retried: dead at once, the interviewer is told
A dead job tells the interviewer, with the values kept for "try again".

A delivery Feishu refuses for good (`refusal`) is not retried either; each job kind decides what to send
instead (bot/jobs/delivery.py `deliver_instead`). Codes from the IM pages (reply, send, update, delayed update:
https://open.feishu.cn/document/server-docs/im-v1/message/reply, …/message/create, …/message-card/patch,
…/message-card/delay-update-message-card) and the card limits (https://open.feishu.cn/document/feishu-cards/
card-json-v2-structure: 30 KB request body, 200 elements).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bot.contract import Job
from bot.feishu.errors import FeishuError

MAX_ATTEMPTS = 5
MAX_AGE = 600.0  # seconds from submission within which transient failures are retried
MAX_RATE_LIMITED_AGE = 1800.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 120.0
TRANSIENT_CODES = frozenset({1002001, 1020001, 2200, 230020, 230049})  # 230020: too fast; 230049: still sending

# Why a delivery can never succeed as it is.
CARD = "card"  # the card: too large (230025, 100000), too many elements (300305, 230099/11310), refused content
RECIPIENT = "recipient"  # the person or chat: outside the app's availability, bot not in the chat, resigned, …
GONE = "gone"  # the message to answer or update: recalled, deleted, too old, its callback token spent
REFUSED = {
    CARD: frozenset({230025, 300305, 230099, 230001, 230022, 230028, 230054, 11310, 11311, 10002, 100000, 100030,
                     200830}),
    RECIPIENT: frozenset({230002, 230006, 230013, 230015, 230018, 230027, 230029, 230034, 230035, 230036, 230038,
                          230053, 230075, 232009}),
    GONE: frozenset({230011, 230019, 230031, 230050, 230071, 230072, 230110, 230111, 200000, 200310, 300020, 300030,
                     300040}),
}


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
    if err.code == 230099 and "lock" in err.msg:
        return True  # 11310 "card action is lock": a JSON 2.0 card mid-interaction, updatable a moment later
    return err.code is None or err.code in TRANSIENT_CODES or (err.status or 0) >= 500


def refusal(err: FeishuError) -> str | None:
    """Why Feishu will never take this delivery as it is (CARD, RECIPIENT or GONE); None: it may yet."""
    if transient(err) or err.rate_limited or err.token_invalid:
        return None
    return next((why for why, codes in REFUSED.items() if err.code in codes), None)


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
