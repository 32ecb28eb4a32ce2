"""The sandbox's schedule: a small panel for the person at the console, so /panel has a candidate to show.

The console's person is the candidate's recruiter; three colleagues interview later today, so nothing arrives
unasked while the console starts (the progress card comes when the first interview ends). Seeded once per
database: a later run keeps what happened to it.
"""

from __future__ import annotations

import time

from bot.jobs.remind import Planner
from bot.settings import Settings
from bot.store import Store

APPLICATION = "sandbox-app-1"
COLLEAGUES = ("ou_sandbox_interviewer_li00000000000", "ou_sandbox_interviewer_wang000000000",
              "ou_sandbox_interviewer_zhao000000000")


def panel_rows(person: str, now: float) -> list[dict]:
    """Three interviews of one candidate, the first ending in two hours, one an hour after another."""
    ends = (now + 2 * 3600, now + 3 * 3600, now + 4 * 3600)
    return [{"interview_id": f"{APPLICATION}-i{n}", "interviewer": who, "candidate": "张伟", "job": "后端工程师",
             "round": f"第{n + 1}轮", "start_at": end - 3600, "end_at": end, "recruiter": person,
             "application_id": APPLICATION, "assessment_id": f"69300000000000000{n + 1:02d}"}
            for n, (who, end) in enumerate(zip(COLLEAGUES, ends, strict=True))]


def seed(settings: Settings, person: str, now: float | None = None) -> bool:
    """Put the panel in the bot's database unless it is there; True when it was added."""
    now = time.time() if now is None else now
    store = Store(settings.database_url, lambda: now)
    try:
        store.create_schema()
        if store.application(APPLICATION):
            return False
        store.upsert_assignments(panel_rows(person, now), Planner(settings, now))
        return True
    finally:
        store.dispose()
