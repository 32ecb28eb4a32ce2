"""All persistent state, behind verbs that say what the bot means; the rest of the code sees no SQL.

One class, `Store`, assembled from one module per concern: the engine and its transactions (`engine`), the
tables and the one job insert (`schema`), acknowledgements and jobs (`outbox`), known assessments
(`assessments`), the schedule of interviews (`schedule`), people's ids and names (`people`), the recruiters'
panels (`panel`, refreshes queued by `refresh`), the audit trail (`audit`), the shared rate limit
(`ratelimit`), leases (`leases`), the feedback forms synced from Hire (`forms`), schedule files sent in chat
(`uploads`), the tables schedules are read from (`sources`) and the operator's verbs on jobs (`admin`); the schema's
versions live in `migrations`. A job's payload is the job contract's (bot/contract.py): the store writes and reads it
whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Column, ColumnElement, and_, delete, select

from bot.store.admin import Admin, JobRow, Recorded
from bot.store.assessments import Denied, Known
from bot.store.audit import AuditEntry
from bot.store.engine import LOCK_TIMEOUT, make_engine, schema_lock
from bot.store.errors import Misconfigured, Unavailable, explain, misconfigured, unavailable
from bot.store.forms import FormRow, FormVersions, NewForm, SyncStatus
from bot.store.leases import Lease, Leases
from bot.store.migrations import SchemaTooNew
from bot.store.outbox import ACTIVE, Outbox, new_owner_id
from bot.store.panel import Panels, PanelState
from bot.store.people import People
from bot.store.ratelimit import Pace
from bot.store.schedule import Assignment, Schedule, Stopped, Upserted
from bot.store.schema import jobs, metadata, processed, rate_hits, rate_limits, uploads
from bot.store.sources import Source, Sources
from bot.store.uploads import Moved, Upload, Uploads

__all__ = ["ACTIVE", "Admin", "Assignment", "AuditEntry", "Denied", "FormRow", "JobRow", "Known", "Lease",
           "Misconfigured", "Moved", "NewForm", "Pace", "PanelState", "Recorded", "SchemaTooNew", "Source", "Stopped",
           "Store", "SyncStatus", "Unavailable", "Upload", "Upserted", "explain", "jobs", "make_engine", "metadata",
           "misconfigured", "new_owner_id", "rate_hits", "rate_limits", "schema_lock", "unavailable"]

PURGE_BATCH = 500  # rows deleted per transaction by a purge
PURGE_REST_AT_MOST = 0.5  # seconds a purge rests between two batches, at most


class Store(Outbox, Schedule, People, Panels, Leases, FormVersions, Uploads, Sources, Admin):
    """The bot's database."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time, lock_timeout: float = LOCK_TIMEOUT):
        super().__init__(url, clock, lock_timeout)
        self._key_inserts = {}

    def purge(self, dedup_ttl: float, job_ttl: float, batch: int = PURGE_BATCH) -> dict[str, int]:
        """Delete dedup records and finished jobs past their TTL (and schedule files sent in chat as old), and old
        rate-limit slots.

        At most `batch` rows a transaction, resting between two, so the write lock is never held for long: on
        SQLite, acknowledgements waiting for it go between two batches.
        """
        now = self.clock()
        finished = and_(jobs.c.updated_at < now - job_ttl, jobs.c.status.in_(("done", "dead", "discarded")))
        return {
            "processed_keys": self._delete_in_batches(processed.c.key, processed.c.created_at < now - dedup_ttl,
                                                      batch),
            "jobs": self._delete_in_batches(jobs.c.id, finished, batch),
            "uploads": self._delete_in_batches(uploads.c.id, uploads.c.updated_at < now - job_ttl, batch),
            "rate_hits": self._delete_in_batches(rate_hits.c.id, rate_hits.c.at < now - 60, batch),
        }

    def _delete_in_batches(self, key: Column, where: ColumnElement[bool], batch: int) -> int:
        """Delete the rows of `key`'s table matching `where` (an indexed condition), `batch` at a time, each batch
        its own short transaction."""
        table = key.table
        statement = delete(table).where(key.in_(select(key).where(where).limit(batch)))
        total = 0
        while True:
            started = time.monotonic()
            with self.transaction() as conn:
                deleted = conn.execute(statement).rowcount
            total += deleted
            if deleted < batch:
                return total
            # Rest twice as long as the batch took: the purge holds the write lock a third of the time at most,
            # and writers of other processes (their acknowledgements, another worker's purge) get it in between.
            time.sleep(min(2 * (time.monotonic() - started), PURGE_REST_AT_MOST))
