"""The thin edge: Flask routes that read raw bytes and headers, call the core, and answer."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, json, request
from werkzeug.exceptions import RequestEntityTooLarge

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
    body = _body(_ctx().settings.assessbot_max_body_bytes)
    if body is None:
        return _json({"error": "body too large"}, 413)
    result = dispatch.receive(_ctx(), body, request.headers)
    response = _json(result.body, result.status)
    if result.after is not None:
        response.call_on_close(result.after)
    return response


@bp.post("/api/interviews")
def api_interviews() -> Response:
    """Interviews pushed by an external system (bot/flows/interviews.py)."""
    from bot.flows import interviews

    if not _ctx().settings.assessbot_intake_token:
        return _json({"error": "not found"}, 404)
    body = _body(_ctx().settings.assessbot_max_body_bytes)
    if body is None:
        return _json({"error": "body too large"}, 413)
    status, answer, headers = interviews.answer(_ctx(), body, request.headers)
    response = _json(answer, status)
    response.headers.update(headers)
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
    """The database answers; the job backlog and its oldest entry's age. 503 while the database cannot store."""
    ctx = _ctx()
    started = time.perf_counter()
    try:
        ctx.store.ping()
        backlog, oldest = ctx.store.backlog()
    except Unavailable:  # logged once by the store when it stopped answering
        return _json({"status": "unavailable", "database": "unreachable"}, 503)
    except Exception:
        log.exception("readiness check failed")
        return _json({"status": "unavailable", "database": "error"}, 503)
    return _json({"status": "ok", "database": "ok", "backlog": backlog, "oldest_pending_seconds": round(oldest, 3),
                  "check_ms": round((time.perf_counter() - started) * 1000, 2)})
