"""One place commits what a command decided: dedup keys, jobs, audit rows, ownership and schedule rows, in one
transaction."""

from __future__ import annotations

from collections.abc import Sequence

from bot import metrics
from bot.commands.base import Outcome, Request
from bot.store import Denied, Moved


def commit(req: Request, keys: Sequence[str], outcome: Outcome) -> list[int] | None:
    """Commit the outcome (`Store.accept`); None when a key was seen before. Raises Denied for a lost race, Moved
    when an upload was no longer where the click found it.

    The people whose names the request could not find in the database are looked up by a job, for next time."""
    keys = [*keys, *(k for k in outcome.keys if k not in keys)]
    if "names" in req.__dict__:  # the request used names (a cached property): learn the ones it missed
        outcome.jobs.extend(req.names.learn())
    if not (keys or outcome.jobs or outcome.audits or outcome.owner_change or outcome.assignment_updates
            or outcome.new_assignments or outcome.pins or outcome.upload_state):
        return []
    ids = req.ctx.store.accept(keys, outcome.jobs, actor=req.actor, claim_owner=outcome.write,
                               may_override=outcome.may_override, audits=outcome.audits,
                               owner_change=outcome.owner_change, assignment_updates=outcome.assignment_updates,
                               new_assignments=outcome.new_assignments, plan=outcome.plan, pins=outcome.pins,
                               upload_state=outcome.upload_state)
    if ids is None:
        metrics.DEDUP_HITS.inc()
    return ids


__all__ = ["Denied", "Moved", "commit"]
