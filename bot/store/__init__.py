"""All persistent state, behind verbs that say what the bot means; the rest of the code sees no SQL.

One class, `Store`, assembled from one module per concern: the engine and its transactions (`engine`), the
tables (`schema`), acknowledgements and jobs (`outbox`), known assessments (`assessments`), the schedule of
interviews (`schedule`), the recruiters' panels (`panel`), the audit trail (`audit`), the shared rate limit
(`ratelimit`), leases (`leases`) and the operator's verbs on jobs (`admin`); the schema's versions live in
`migrations`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete

from bot.store.admin import Admin, JobRow
from bot.store.assessments import Denied, Known
from bot.store.audit import AuditEntry
from bot.store.engine import LOCK_TIMEOUT, make_engine, schema_lock
from bot.store.errors import Unavailable, unavailable
from bot.store.leases import Lease, Leases
from bot.store.migrations import SchemaTooNew
from bot.store.outbox import ACTIVE, Outbox, new_owner_id
from bot.store.panel import Panels, PanelState
from bot.store.ratelimit import Pace
from bot.store.schedule import Assignment, Schedule, Upserted
from bot.store.schema import Job, NewJob, jobs, metadata, processed, rate_hits, rate_limits

__all__ = ["ACTIVE", "Admin", "Assignment", "AuditEntry", "Denied", "Job", "JobRow", "Known", "Lease", "NewJob", "Pace",
           "PanelState", "SchemaTooNew", "Store", "Unavailable", "Upserted", "jobs", "make_engine", "metadata",
           "new_owner_id", "rate_hits", "rate_limits", "schema_lock", "unavailable"]


class Store(Outbox, Schedule, Panels, Leases, Admin):
    """The bot's database."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time, lock_timeout: float = LOCK_TIMEOUT):
        super().__init__(url, clock, lock_timeout)
        self._key_inserts = {}

    def purge(self, dedup_ttl: float, job_ttl: float) -> dict[str, int]:
        """Delete dedup records and finished jobs past their TTL, and old rate-limit slots."""
        now = self.clock()
        with self.transaction() as conn:
            counts = {
                "processed_keys": conn.execute(delete(processed).where(processed.c.created_at < now - dedup_ttl)
                                               ).rowcount,
                "jobs": conn.execute(delete(jobs).where(jobs.c.status.in_(("done", "dead", "discarded")),
                                                        jobs.c.updated_at < now - job_ttl)).rowcount,
                "rate_hits": conn.execute(delete(rate_hits).where(rate_hits.c.at < now - 60)).rowcount,
            }
        return counts
