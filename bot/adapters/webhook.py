"""The thin edge: Flask routes that read raw bytes and headers, call the core, and answer."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, json, request
from werkzeug.exceptions import RequestEntityTooLarge

from bot import metrics
from bot.answer import Answer
from bot.flows import receive as dispatch
from bot.services import Context
from bot.store import Unavailable

bp = Blueprint("assessbot", __name__)
log = logging.getLogger("assessbot.web")


def _ctx() -> Context:
    return current_app.extensions["assessbot"]


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


@bp.post("/feishu/events")
def feishu_events() -> Response:
    """Events and card callbacks, both signed and encrypted the same way."""
    started = time.perf_counter()
    limit = _ctx().settings.assessbot_max_body_bytes
    body = _body(limit)
    if body is None:
        # Larger than any push Feishu sends (ASSESSBOT_MAX_BODY_BYTES): unread, so nobody can be answered.
        log.warning("push refused: body too large", extra={"limit": limit, "size": request.content_length})
        metrics.ACKS.labels("413").inc()
        return _json({"error": "body too large", "limit": limit}, 413)
    with _ctx().in_flight.serving():
        answer = dispatch.receive(_ctx(), body, request.headers)
    metrics.ACKS.labels(str(answer.status)).inc()
    metrics.ACK_SECONDS.observe(time.perf_counter() - started)
    return _response(answer)


@bp.post("/api/interviews")
def api_interviews() -> Response:
    """Interviews pushed by an external system (bot/flows/interviews.py)."""
    from bot.flows import interviews

    if not _ctx().settings.assessbot_intake_token:
        return _json({"error": "not found"}, 404)
    body = _body(_ctx().settings.assessbot_max_body_bytes)
    if body is None:
        return _json({"error": "body too large"}, 413)
    return _response(interviews.answer(_ctx(), body, request.headers))


def _response(answer: Answer) -> Response:
    """The bot's answer as HTTP: its JSON body, status and headers; `after` once the response has been sent."""
    response = _json(dict(answer.body), answer.status)
    response.headers.update(answer.headers)
    if answer.after is not None:
        response.call_on_close(answer.after)
    return response


def _body(limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit` (never reading more than limit + 1 bytes).

    MAX_CONTENT_LENGTH (limit + 1) makes Werkzeug refuse a larger Content-Length at once and cap a chunked
    stream; the count here catches the capped stream, which Werkzeug would otherwise hand over truncated.
    """
    chunks, size = [], 0
    try:
        stream = request.stream
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except RequestEntityTooLarge:
        return None
    return b"".join(chunks)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive."""
    return _json({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """The database answers; jobs owed now and planned for later, dead jobs; in long-connection mode the connection.

    `backlog` counts the jobs whose time has come (running, due, or waiting to try again) and `oldest_pending_seconds`
    how long the longest-waiting one has been due; `scheduled` counts those planned for later (a reminder after
    tomorrow's interview) and `next_due_in_seconds` says when the first is due.

    `forms` says where interviews' forms come from: Hire's forms as last read, or why they cannot be read (the
    bot then works on the forms last read, else its local rubric); it never makes the instance unready.

    In long-connection mode every process reports the one connection of the deployment (from its lease), and
    answers 503 unless a live holder reports it connected: without it no event reaches the bot. 503 while the
    database cannot store. Dead jobs are reported, never failed on: a load balancer that took the instance out
    for them would stop acknowledgements too, and retrying them is an operator's decision (`assessbot jobs`).
    """
    ctx = _ctx()
    started = time.perf_counter()
    connected, connection = True, None
    try:
        ctx.store.ping()
        backlog, oldest = ctx.store.backlog()
        scheduled, next_due = ctx.store.scheduled()
        dead = ctx.store.dead_jobs()
        forms = _forms(ctx)
        if ctx.settings.feishu_event_mode == "longconn":
            from bot.adapters.longconn import status

            connected, connection = status(ctx)
    except Unavailable:  # logged once by the store when it stopped answering
        return _json({"status": "unavailable", "database": "unreachable"}, 503)
    except Exception:
        log.exception("readiness check failed")
        return _json({"status": "unavailable", "database": "error"}, 503)
    body = {"status": "ok" if connected else "unavailable", "database": "ok", "backlog": backlog,
            "oldest_pending_seconds": round(oldest, 3), "scheduled": scheduled,
            "next_due_in_seconds": None if next_due is None else round(next_due, 3), "dead_jobs": dead}
    if connection is not None:
        body["connection"] = connection
    body["forms"] = forms
    body["check_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return _json(body, 200 if connected else 503)


def _forms(ctx: Context) -> dict:
    """Where interviews' forms come from now: Hire's forms as last read, or why they could not be read (the bot then
    works on its local rubric; readiness does not depend on it)."""
    status = ctx.store.form_status()
    now = ctx.clock()
    if status is None:
        off = not ctx.settings.assessbot_forms_sync_minutes
        return {"hire": "off" if off else "not read yet", "rubric": "local"}
    if status.ok:
        return {"hire": "ok", "forms": status.forms, "read_seconds_ago": round(now - (status.synced_at or now), 1)}
    found = {"hire": "unavailable", "reason": status.reason, "code": status.code,
             "failing_seconds": round(now - (status.failed_at or now), 1)}
    if status.synced_at is not None:
        found["last_read_seconds_ago"] = round(now - status.synced_at, 1)
    else:
        found["rubric"] = "local"
    return found


@bp.get("/metrics")
def metrics_text() -> Response:
    """Prometheus metrics, for a scraper on this machine only: 404 through a proxy or from another host."""
    proxied = request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded")
    if proxied or request.remote_addr not in _LOOPBACK:
        return _json({"error": "not found"}, 404)
    try:
        return Response(metrics.render(_ctx().store), 200, content_type=metrics.CONTENT_TYPE)
    except Unavailable:
        return _json({"status": "unavailable", "database": "unreachable"}, 503)


_LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
