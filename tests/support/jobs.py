"""Jobs as tests queue them directly: a write of some fields, a card to send, a reminder."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.assessment import Submission
from bot.contract import NewJob, Private, Remind, Send, Write
from bot.store import jobs

SOMEONE = "ou_a"


def write_job(key: str, actor: str = SOMEONE, delay: float = 0.0, **fields: object) -> NewJob:
    """A versioned write of `fields` to the assessment `key`, confirmed privately to `actor`."""
    return NewJob(Write(submission=Submission(**fields), actor=actor, target=Private(actor, "test")), key,
                  versioned=True, delay=delay)


def send_job(key: str | None = None, card: dict | None = None, delay: float = 0.0) -> NewJob:
    """A card sent privately (about the assessment `key`, when given)."""
    return NewJob(Send(card=card or {}, target=Private(SOMEONE, "test")), key, delay=delay)


def remind_job(key: str | None = None, delay: float = 0.0) -> NewJob:
    """A reminder (of no assignment the store knows: it finds nothing to do)."""
    return NewJob(Remind(assignment=1, at=0.0), key, delay=delay)


def pending_work(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Jobs by status, the look-ups of people's names left out (an import queues them for the cards' sake)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.status, func.count()).where(jobs.c.kind != "names")
                            .group_by(jobs.c.status)).all()
    return {status: count for status, count in rows}
