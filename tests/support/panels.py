"""A candidate's panel in the schedule: interviewers, their interviews, and their submissions as the write job
records them."""

from __future__ import annotations

from bot.assessment import Assessment, Conclusion
from bot.contract import Job
from bot.schedule.planner import Planner
from tests.support.jobs import write_job

RECRUITER = "ou_recruiter00000000000000000000000"
STRANGER = "ou_stranger000000000000000000000000"


def interviewer(n: int) -> str:
    return f"ou_interviewer{n:021d}"


def seed_panel(ctx, application: str, people: list[str], *, start: float, candidate: str = "张伟",
               recruiter: str | None = RECRUITER, gap: float = 0.0) -> list[str]:
    """Put `people` on one application (an hour each, `gap` seconds apart); the assessment ids, in order."""
    rows = [{"interview_id": f"{application}-i{n}", "interviewer": person, "candidate": candidate,
             "position": "Backend Engineer", "round": f"R{n + 1}", "start_at": start + n * gap,
             "end_at": start + n * gap + 3600, "recruiter": recruiter, "application_id": application,
             "feishu_assessment_id": f"{application}-a{n}"} for n, person in enumerate(people)]
    ctx.store.upsert_assignments(rows, Planner(ctx.settings, ctx.clock()))
    return [r["feishu_assessment_id"] for r in rows]


def submit(ctx, key: str, actor: str, *, conclusion: Conclusion | None, dimensions: dict | None = None,
           content: str | None = None) -> None:
    """Record a submission as the write job does after a successful PATCH (its versioned job included)."""
    ids = ctx.store.accept([], [write_job(key, actor, delay=10**9)])
    row = ctx.store.job(ids[0])
    job = Job(row["id"], "write", key, row["version"], row["payload"], "start", 1, row["created_at"], "owner")
    ctx.store.claim("owner", 60.0, job.id)
    state = Assessment(conclusion=conclusion, dimensions=dimensions or {}, content=content)
    assert ctx.store.record_write(job, state, {"actor": actor}, "LOG")
    ctx.store.finish(job)
