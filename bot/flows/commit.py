"""One place commits what a command decided: dedup keys, jobs, audit rows, ownership and schedule rows, in one
transaction."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.base import Outcome, Request
from bot.store import Denied


def commit(req: Request, keys: Sequence[str], outcome: Outcome) -> list[int] | None:
    """Commit the outcome (`Store.accept`); None when a key was seen before. Raises Denied for a lost race."""
    keys = [*keys, *(k for k in outcome.keys if k not in keys)]
    if not (keys or outcome.jobs or outcome.audits or outcome.owner_change or outcome.assignment_updates
            or outcome.new_assignments):
        return []
    return req.ctx.store.accept(keys, outcome.jobs, actor=req.actor, claim_owner=outcome.write,
                                may_override=outcome.may_override, audits=outcome.audits,
                                owner_change=outcome.owner_change, assignment_updates=outcome.assignment_updates,
                                new_assignments=outcome.new_assignments, plan=outcome.plan)


__all__ = ["Denied", "commit"]
