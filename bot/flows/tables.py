"""A followed Bitable changed (`drive.file.bitable_record_changed_v1`): read it again soon, rather than at its next
periodic read. Changes within one COALESCE window make one read, due just after the window: a change made while
an earlier read runs is still read."""

from __future__ import annotations

import hashlib
import math

from bot.contract import NewJob, SyncTable
from bot.feishu.events import RecordChanged
from bot.services import Context

COALESCE = 10.0  # seconds
AFTER = 2.0  # seconds after its window a read starts


def on_table_changed(ctx: Context, event: RecordChanged) -> None:
    """Queue a read of the table the event names, if the bot reads it; other tables' events are ignored."""
    known = ctx.store.source(f"bitable:{event.file_token}:{event.table_id}")
    if known is None:
        return
    now = ctx.clock()
    window = math.floor(now / COALESCE)
    digest = hashlib.sha256(known.source.encode()).hexdigest()[:24]
    ctx.store.accept([f"event:{event.event_id}", f"table-changed:{digest}:{window}"],
                     [NewJob(SyncTable(url=known.url), delay=(window + 1) * COALESCE + AFTER - now)])
