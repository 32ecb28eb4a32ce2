"""The HTTP edge: health, readiness, and bodies that are too large, with or without a length."""

from __future__ import annotations

import io

from tests.support.push import encrypt


def test_healthz_says_the_process_is_alive(app):
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_reports_the_database_and_the_backlog(app, push, clock):
    push.message("/assess 123 pass")
    clock.advance(4)
    body = app.test_client().get("/readyz").get_json()
    assert {k: body[k] for k in ("status", "database", "backlog", "oldest_pending_seconds")} == {
        "status": "ok", "database": "ok", "backlog": 1, "oldest_pending_seconds": 4.0}


def test_a_body_over_the_limit_gets_413_before_it_is_read(app, ctx):
    big = encrypt({"pad": "x" * 1_100_000})
    response = app.test_client().post("/feishu/events", data=big, content_type="application/json")
    assert response.status_code == 413 and ctx.store.jobs_by_status() == {}


def test_a_chunked_body_over_the_limit_gets_413_too(app):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/feishu/events", method="POST", content_type="application/json").get_environ()
    environ.pop("CONTENT_LENGTH", None)  # chunked: no length, the server marks the stream as terminated
    environ.update({"wsgi.input": io.BytesIO(b"x" * 1_100_000), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("413")


def test_only_post_is_answered_on_the_event_endpoint(app):
    assert app.test_client().get("/feishu/events").status_code == 405
