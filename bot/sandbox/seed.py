"""A small schedule for the sandbox's interviewer, so the whole flow shows at once: an interview that ended two
hours ago (its reminder is due now), one later today, and one already submitted."""

from __future__ import annotations

from bot.feishu.client import Feishu
from bot.jobs.remind import Planner
from bot.settings import Settings
from bot.store import Store

WORK_HOURS, WORK_DAYS = "00:00-24:00", "1-7"  # the sandbox works around the clock: a reminder shows whenever
RECRUITER = "ou_sandboxrecruiter00000000000000000"
HOUR = 3600.0


def schedule(interviewer: str, now: float) -> list[dict]:
    """The three seeded interviews, relative to `now`."""
    def interview(number: str, candidate: str, job: str, round_: str, end: float) -> dict:
        return {"interview_id": f"69600000000000000{number}", "interviewer": interviewer, "candidate": candidate,
                "job": job, "round": round_, "start_at": end - HOUR, "end_at": end, "recruiter": RECRUITER,
                "application_id": f"69700000000000000{number}"}

    return [interview("01", "张伟 Zhang Wei", "后端工程师 Backend Engineer", "一面 Round 1", now - 2 * HOUR),
            interview("02", "李娜 Li Na", "产品经理 Product Manager", "二面 Round 2", now + 3 * HOUR),
            interview("03", "王芳 Wang Fang", "数据分析师 Data Analyst", "一面 Round 1", now - 26 * HOUR)]


def seed(settings: Settings, interviewer: str, now: float) -> bool:
    """Put the schedule in the bot's database unless the interviewer has one; True when it was seeded.

    The submitted one is created in the local Open API first (as the bot would on a first submission).
    """
    store = Store(settings.database_url, lambda: now)
    try:
        if store.assignments_of(interviewer):
            return False
        rows = schedule(interviewer, now)
        store.upsert_assignments(rows[:2], Planner(settings, now))
        store.upsert_assignments(rows[2:], lambda after, before: (None, []))  # submitted: nothing to remind of
        done = store.find_assignments(rows[2]["interview_id"])[0]
        feishu = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain, timeout=5)
        created = feishu.create_assessment({"external_interview_id": done.interview_id, "external_id": done.external_id,
                                            "username": "Sandbox Interviewer", "conclusion": 2,
                                            "content": "沟通清晰 Clear communicator"})
        store.learn_assessment_id(done.key, created.data["external_interview_assessment"]["id"])
        store.update_assignment(done.id, submitted_at=now - 24 * HOUR, remind_at=None, first_reminded_at=None)
        return True
    finally:
        store.dispose()


APPLICATION = "sandbox-app-1"
COLLEAGUES = ("ou_sandbox_interviewer_li00000000000", "ou_sandbox_interviewer_wang000000000",
              "ou_sandbox_interviewer_zhao000000000")


def panel_rows(recruiter: str, now: float) -> list[dict]:
    """Three interviews of one candidate by colleagues, the first ending in two hours, one an hour after another:
    /panel shows them at once; the progress card comes when the first one ends."""
    ends = (now + 2 * HOUR, now + 3 * HOUR, now + 4 * HOUR)
    return [{"interview_id": f"{APPLICATION}-i{n}", "interviewer": who, "candidate": "张伟", "job": "后端工程师",
             "round": f"第{n + 1}轮", "start_at": end - HOUR, "end_at": end, "recruiter": recruiter,
             "application_id": APPLICATION, "assessment_id": f"69300000000000000{n + 1:02d}"}
            for n, (who, end) in enumerate(zip(COLLEAGUES, ends, strict=True))]


def seed_panel(settings: Settings, recruiter: str, now: float) -> bool:
    """Put a candidate's panel, with the person at the console as its recruiter, unless it is there."""
    store = Store(settings.database_url, lambda: now)
    try:
        store.create_schema()
        if store.application(APPLICATION):
            return False
        store.upsert_assignments(panel_rows(recruiter, now), Planner(settings, now))
        return True
    finally:
        store.dispose()
