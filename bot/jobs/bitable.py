"""Following a Bitable: read it every ASSESSBOT_SCHEDULE_SYNC_MINUTES (and soon after its record-changed event), take
its schedule in, and write each record's state into its status column, one write at a time per base.

A periodic read plans the next one before it reads (a dedup key per time slot, so every process starting and every
read planning gives one chain); one read of a table runs at a time (a lease). Reading and writing answers Feishu
refuses for good (no access: 91403, a missing scope) are recorded on the table (`assessbot doctor` shows them) and
logged, not retried every few minutes; transient ones are the runner's to retry.
"""

from __future__ import annotations

import hashlib
import logging
import math
from zoneinfo import ZoneInfo

from bot import display
from bot.contract import Job, NewJob, SyncTable, WriteStatus
from bot.feishu.errors import FeishuError
from bot.jobs.base import Executor
from bot.jobs.pacing import paced
from bot.jobs.retry import describe, transient
from bot.schedule.bitable import Table, language_of, state_of, status_text, table_of
from bot.schedule.planner import Planner
from bot.schedule.tables import NotABase, fetch, table_failed, take_table
from bot.store import Assignment, Pace

log = logging.getLogger("assessbot.jobs.bitable")

BITABLE = Pace("bitable", 20, 1.02)  # records/search, fields, update: 20 requests a second, shared by all processes
LEASE = 120.0  # seconds a table's read (or a base's writes) is held; renewed while writing
RECORD_GONE = 1254043  # RecordIdNotFound, among the Bitable API's error codes
RESUBSCRIBE = 24 * 3600.0  # a refused subscription to record-changed events is asked again a day later
AGAIN = 15.0  # a read asked for while another runs comes this much later


def sync_job(url: str, period: float, now: float) -> tuple[str, NewJob]:
    """The periodic read of the slot after `now` (its dedup key, and the job due at the slot's start)."""
    slot = math.floor(now / period) + 1
    return _slot_key(url, period, slot), NewJob(SyncTable(url=url, period=period), delay=slot * period - now)


def first_sync(url: str, period: float, now: float) -> tuple[str, NewJob]:
    """The periodic read of the current slot, due now (a start queues it; whichever process is first)."""
    return _slot_key(url, period, math.floor(now / period)), NewJob(SyncTable(url=url, period=period))


def _slot_key(url: str, period: float, slot: int) -> str:
    return f"table-sync:{_digest(url)}:{int(period)}:{slot}"


def _again(what: str, name: str, now: float) -> str:
    """The dedup key of coming back after a running read or write: one per table and AGAIN window."""
    return f"{what}-again:{_digest(name)}:{math.floor(now / AGAIN)}"


def _digest(text: str) -> str:
    """A table's link or name as logs and keys say it: a base's token is never written out."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class ReadTable(Executor):
    """Read a table whole and take its schedule in; a periodic read first plans the next."""

    payload = SyncTable

    def run(self, job: Job) -> None:
        sync = job.payload
        assert isinstance(sync, SyncTable)
        ctx, now = self.ctx, self.ctx.clock()
        if sync.period:
            key, following = sync_job(sync.url, sync.period, now)
            ctx.store.accept([key], [following])
        lease, holder = f"sync:{_digest(sync.url)}", f"job:{job.id}:{job.attempts}"
        if not ctx.store.hold_lease(lease, holder, LEASE, {}):
            if not sync.period:  # an event's read while another runs: come back after it (once per window)
                ctx.store.accept([_again("sync", sync.url, now)], [NewJob(SyncTable(url=sync.url), delay=AGAIN)])
            return
        try:
            self._read(table_of(sync.url))
        finally:
            ctx.store.release_lease(lease, holder, {})

    def _read(self, table: Table) -> None:
        ctx = self.ctx
        now = ctx.clock()
        try:
            fetched = fetch(ctx.feishu, table, lambda: paced(ctx.store, BITABLE, ctx.sleep))  # type: ignore[arg-type]
            taken, read = take_table(fetched, ctx.store, Planner(ctx.settings, now),
                                     zone=ZoneInfo(ctx.settings.assessbot_timezone), lookup=ctx.feishu.open_ids,
                                     now=now, forms=ctx.forms)
        except FeishuError as err:
            if transient(err) or err.rate_limited or err.token_invalid:
                raise
            self._failed(table, table_failed(err, ctx.settings.feishu_domain)[1], err.log_fields())
            return
        except NotABase as exc:
            self._failed(table, table_failed(exc, ctx.settings.feishu_domain)[1], {})
            return
        source = fetched.table.key
        ctx.store.remember_source(source, table.url, read.status_field, now)
        problems = len(taken.errors)
        if problems:
            ctx.store.mark_source(source, error=f"{problems} row(s) with problems were left out")
        log.info("table read", extra={"table": _digest(source), "records": len(fetched.records), **taken.counts(),
                                      "withdrawn": len(taken.withdrawn), "cancelled": len(taken.cancelled),
                                      "problems": problems})
        if read.status_field:
            ctx.store.accept([], [NewJob(WriteStatus(source=source))])
        self._subscribe(source, fetched.table)
        if ctx.runner is not None:
            ctx.runner.wake()

    def _failed(self, table: Table, why: str, fields: dict) -> None:
        """A refusal reading cannot get past: noted on the table (when its base is known) and logged."""
        log.warning("table not read", extra={"table": _digest(table.url), **fields})
        if table.app_token is not None:
            ctx = self.ctx
            if ctx.store.source(table.key) is None:
                ctx.store.remember_source(table.key, table.url, None, None)
            ctx.store.mark_source(table.key, error=why)

    def _subscribe(self, source: str, table: Table) -> None:
        """Ask for the base's record-changed events once (again a day after a refusal); reads go on regardless."""
        ctx, now = self.ctx, self.ctx.clock()
        known = ctx.store.source(source)
        if known is None or known.subscribed_at is not None or (
                known.subscribe_tried_at is not None and now - known.subscribe_tried_at < RESUBSCRIBE):
            return
        assert table.app_token is not None
        try:
            with paced(ctx.store, BITABLE, ctx.sleep):
                ctx.feishu.subscribe_table(table.app_token)
        except FeishuError as err:
            log.warning("record-changed events not subscribed; the table is read every few minutes only",
                        extra={"table": _digest(source), **err.log_fields()})
            ctx.store.mark_source(source, subscribe_tried_at=now)
            return
        ctx.store.mark_source(source, subscribed_at=now, subscribe_tried_at=now)


class WriteStatuses(Executor):
    """Write each record's state into the table's status column: only what changed, one write at a time per base."""

    payload = WriteStatus

    def run(self, job: Job) -> None:
        status = job.payload
        assert isinstance(status, WriteStatus)
        ctx = self.ctx
        _, app_token, table_id = status.source.split(":", 2)
        known = ctx.store.source(status.source)
        if known is None or not known.status_field:
            return
        lease, holder = f"status:{_digest(app_token)}", f"job:{job.id}:{job.attempts}"
        if not ctx.store.hold_lease(lease, holder, LEASE, {}):  # after the holder, once per window however asked
            ctx.store.accept([_again("status", status.source, ctx.clock())],
                             [NewJob(WriteStatus(source=status.source), delay=AGAIN)])
            return
        try:
            self._write(status.source, app_token, table_id, known.status_field, lease, holder)
        finally:
            ctx.store.release_lease(lease, holder, {})

    def _write(self, source: str, app_token: str, table_id: str, field: str, lease: str, holder: str) -> None:
        ctx = self.ctx
        by_record: dict[str, list[Assignment]] = {}
        for a in ctx.store.source_assignments(source):
            if a.record_id:
                by_record.setdefault(a.record_id, []).append(a)
        written = ctx.store.written_statuses(source)
        names, lang = display.Names(ctx, live=True), language_of(field)
        for record_id, group in sorted(by_record.items(), key=lambda item: min(a.id for a in item[1])):
            people = [a for a in group if a.stopped != "withdrawn"] or group  # the record no longer names those
            text = status_text([(names(a.interviewer), state_of(a), self._conclusion(a)) for a in people], lang)
            if written.get(record_id) == text:
                continue
            try:
                with paced(ctx.store, BITABLE, ctx.sleep):
                    ctx.feishu.update_record(app_token, table_id, record_id, {field: text})
            except FeishuError as err:
                if transient(err) or err.rate_limited or err.token_invalid:
                    raise  # what was written is remembered: the retry goes on from here
                if err.code == RECORD_GONE:  # the row was deleted after the read: nothing to write it on
                    log.info("status not written: the record is gone", extra={"table": _digest(source),
                                                                            "record_id": record_id})
                    ctx.store.status_written(source, record_id, text)  # not tried again until its text changes
                    continue
                log.warning("status not written", extra={"table": _digest(source), "record_id": record_id,
                                                         **err.log_fields()})
                ctx.store.mark_source(source, error=f"writing the status: {describe(err)}")
                return
            ctx.store.status_written(source, record_id, text)
            ctx.store.hold_lease(lease, holder, LEASE, {})  # still writing: keep the base

    def _conclusion(self, assignment: Assignment) -> tuple[str, str] | None:
        if assignment.submitted_at is None:
            return None
        conclusion = self.ctx.store.known(assignment.key).state.conclusion
        return (conclusion.zh, conclusion.en) if conclusion is not None else None

