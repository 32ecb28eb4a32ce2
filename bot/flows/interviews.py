"""`POST /api/interviews`: an external system hands the bot a JSON list of interviews, with a bearer token.

404 while no ASSESSBOT_INTAKE_TOKEN is set (the door does not exist), 401 without the right token, 400 with
every problem, 503 when Feishu cannot resolve emails and mobiles, 200 with the counts and the assignments withdrawn
(the list no longer names their interviewer on an interview it names) or cancelled (`"status": "cancelled"`).
Nothing of the body or the token is logged.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.answer import Answer
from bot.schedule.files import read_bytes
from bot.schedule.intake import take_in
from bot.schedule.planner import Planner
from bot.schedule.validation import Problem
from bot.services import Context
from bot.store.schedule import Stopped

log = logging.getLogger("assessbot.interviews")


def authorized(token: str, authorization: str | None) -> bool:
    """Whether the Authorization header is `Bearer <token>`, compared in constant time."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token.encode())


def answer(ctx: Context, body: bytes, headers: Mapping[str, str]) -> Answer:
    """The answer to one request: status, JSON body and headers."""
    token = ctx.settings.assessbot_intake_token
    if not token:
        return Answer(404, {"error": "not found"})
    if not authorized(token, headers.get("Authorization")):
        return Answer(401, {"error": "unauthorized"}, headers={"WWW-Authenticate": 'Bearer realm="assessbot"'})
    assignments, problems = read_bytes(body, "json", ZoneInfo(ctx.settings.assessbot_timezone))
    now = ctx.clock()
    from bot.feishu.errors import FeishuError

    try:
        taken = take_in(assignments, problems, ctx.store, Planner(ctx.settings, now), lookup=ctx.feishu.open_ids,
                        now=now, forms=ctx.forms)
    except FeishuError as exc:
        log.warning("people lookup failed", extra=exc.log_fields())
        return Answer(503, {
            "error": "feishu unavailable", "zh": "飞书暂时无法查询邮箱和手机号，没有导入任何内容，请稍后重试。",
            "en": "Feishu could not look up emails and mobiles; nothing was imported. Try again later."})
    warnings = [_problem(p) for p in taken.warnings]
    if not taken.applied:
        log.info("interviews refused", extra={"problems": len(taken.errors)})
        return Answer(400, {"problems": [_problem(p) for p in taken.errors], "warnings": warnings})
    log.info("interviews taken in", extra={**taken.counts(), "withdrawn": len(taken.withdrawn),
                                           "cancelled": len(taken.cancelled)})
    if ctx.runner is not None:
        ctx.runner.wake()
    return Answer(200, {**taken.counts(), "withdrawn": [_stopped(s) for s in taken.withdrawn],
                        "cancelled": [_stopped(s) for s in taken.cancelled], "warnings": warnings})


def _stopped(stop: Stopped) -> dict:
    return {"interview_id": stop.interview_id, "interviewer": stop.interviewer, "candidate": stop.candidate,
            "feedback_written": stop.submitted}


def _problem(problem: Problem) -> dict:
    return {"row": problem.row, "column": problem.column, "zh": problem.zh, "en": problem.en}
