"""The sandbox Open API's HTTP front door: a Flask app that hands every Open API request to the backend
(bot/sandbox/openapi/backend.py) and serves the sandbox's own endpoints under /_sandbox/ (admin.py)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterable

from flask import Flask, Response, request

from bot.sandbox.openapi.admin import add_admin_routes
from bot.sandbox.openapi.backend import FakeOpenAPI
from bot.sandbox.openapi.wire import Request

_DROP = "bot.sandbox.drop"  # the WSGI environ key that marks a request whose connection is to be dropped
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def make_app(api: FakeOpenAPI) -> Flask:
    """The Flask app serving `api`: the Open API's paths, and /_sandbox/."""
    app = Flask("bot.sandbox.openapi")

    def open_api(path: str = "") -> Response:
        if request.path.startswith("/_sandbox/"):
            return Response(json.dumps({"error": f"no {request.method} {request.path} in the sandbox"}), 404,
                            content_type="application/json")
        answer = api.handle(Request.of(request.method, request.path, request.query_string.decode("latin-1"),
                                       dict(request.headers), request.get_data()))
        if answer.drop:
            request.environ[_DROP] = True
        return Response(answer.body, answer.status, answer.headers, content_type=answer.content_type)

    app.add_url_rule("/", "open_api_root", open_api, methods=_METHODS)
    app.add_url_rule("/<path:path>", "open_api", open_api, methods=_METHODS)
    add_admin_routes(app, api)
    app.wsgi_app = _Droppable(app.wsgi_app)  # type: ignore[method-assign]
    return app


class _Droppable:
    """WSGI middleware: when a request was marked to drop, close its socket instead of answering."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self.app(environ, start_response)
        if not environ.get(_DROP):
            return answer
        if hasattr(answer, "close"):
            answer.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # werkzeug takes a ConnectionError for "the client went away": it writes nothing and goes on serving
        raise ConnectionAbortedError("the sandbox dropped this connection on purpose")
