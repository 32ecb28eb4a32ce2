"""Queueing a refresh of an application's cards: one refresh job at a time, however many changes come.

A panel row counts changes (`version`) and says whether a refresh job is queued, so a burst of submissions
gives one card update (Feishu allows 5 updates a second of one message).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, select, update

from bot.contract import NewJob, RefreshPanel
from bot.store.schema import assignments, insert_job, panels

COALESCE = 2.0  # seconds a refresh waits, so a burst of changes gives one update

_APPLICATION_OF = select(assignments.c.application_id).where(assignments.c.key == bindparam("p_key"))
_QUEUE = (update(panels).where(panels.c.application_id == bindparam("p_app"))
          .values(version=panels.c.version + 1, queued=1, updated_at=bindparam("p_now")))


def touch(conn: Connection, insert: Callable, application_id: str, now: float, delay: float = COALESCE) -> None:
    """Count a change of the application and queue one refresh of its cards, unless one is queued already.

    `insert` is the dialect's INSERT (for ON CONFLICT)."""
    conn.execute(insert(panels).values(application_id=application_id, version=0, queued=0, updated_at=now)
                 .on_conflict_do_nothing())
    queued = conn.execute(select(panels.c.queued).where(panels.c.application_id == application_id)
                          .with_for_update()).scalar()
    conn.execute(_QUEUE, {"p_app": application_id, "p_now": now})
    if not queued:
        insert_job(conn, NewJob(RefreshPanel(application=application_id), delay=delay), now)


def touch_assessment(conn: Connection, insert: Callable, key: str, now: float) -> None:
    """A write to an assessment: refresh the cards of its application, if it belongs to one."""
    application_id = conn.execute(_APPLICATION_OF, {"p_key": key}).scalar()
    if application_id:
        touch(conn, insert, application_id, now)
