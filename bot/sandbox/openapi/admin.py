"""The sandbox Open API's own endpoints under /_sandbox/: read what the bot did, switch faults, reset."""

from __future__ import annotations

import json
from typing import Protocol

from flask import Flask, Response, request


class _Faults(Protocol):
    def describe(self) -> list[dict[str, object]]: ...


class Sandbox(Protocol):
    """What the admin endpoints need of the sandbox (FakeOpenAPI), named here so this module imports none of it."""

    users: dict[str, str]
    faults: _Faults

    @property
    def throttled(self) -> int: ...
    def assessments(self) -> dict[str, dict]: ...
    def messages(self, chat_id: str | None = None) -> list[dict]: ...
    def record_user_message(self, message_id: str, chat_id: str, sender: str, text: str) -> dict: ...
    def calls(self, endpoint: str | None = None) -> list[dict]: ...
    def fault(self, endpoint: str, kind: str, **params: object) -> None: ...
    def clear_faults(self) -> None: ...
    def issue_callback_token(self, message_id: str) -> str: ...
    def add_users(self, users: dict[str, str]) -> None: ...
    def reset(self) -> None: ...
    def push_over_longconn(self, payload: dict, timeout: float = 10.0) -> tuple[int, dict]: ...
    def longconn_status(self) -> dict: ...


def add_admin_routes(app: Flask, api: Sandbox) -> None:
    """Register /_sandbox/... on the sandbox's Flask app."""

    def state() -> Response:
        return _json({"assessments": api.assessments(), "throttled": api.throttled})

    def messages() -> Response:
        if request.method == "POST":
            body = _object()
            try:
                return _json({"message": api.record_user_message(
                    str(body["message_id"]), str(body["chat_id"]), str(body["sender"]), str(body["text"]))})
            except KeyError as exc:
                return _json({"error": f"missing {exc.args[0]}"}, 400)
        return _json({"messages": api.messages(request.args.get("chat_id"))})

    def calls() -> Response:
        return _json({"calls": api.calls(request.args.get("endpoint"))})

    def faults() -> Response:
        if request.method == "DELETE":
            api.clear_faults()
        elif request.method == "POST":
            params = _object()
            try:
                api.fault(str(params.pop("endpoint", "")), str(params.pop("kind", "")), **params)
            except (TypeError, ValueError) as exc:
                return _json({"error": str(exc)}, 400)
        return _json({"faults": api.faults.describe()})

    def callback_tokens() -> Response:
        try:
            return _json({"token": api.issue_callback_token(str(_object().get("message_id")))})
        except KeyError as exc:
            return _json({"error": str(exc.args[0])}, 404)

    def users() -> Response:
        people = _object()
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in people.items()):
            return _json({"error": "expected {open_id: name}"}, 400)
        api.add_users(people)
        return _json({"users": dict(api.users)})

    def reset() -> Response:
        api.reset()
        return _json({"reset": True})

    def longconn() -> Response:
        if request.method == "GET":
            return _json(api.longconn_status())
        body = _object()
        if not isinstance(body.get("payload"), dict):
            return _json({"error": "expected {\"payload\": {...}}"}, 400)
        timeout = body.get("timeout", 10.0)
        status, answer = api.push_over_longconn(body["payload"], float(timeout) if isinstance(timeout, int | float)
                                                else 10.0)
        return _json(answer, status)

    for rule, view, methods in [("state", state, ["GET"]), ("messages", messages, ["GET", "POST"]),
                                ("calls", calls, ["GET"]), ("faults", faults, ["GET", "POST", "DELETE"]),
                                ("callback_tokens", callback_tokens, ["POST"]), ("users", users, ["POST"]),
                                ("reset", reset, ["POST"]), ("longconn", longconn, ["GET", "POST"])]:
        app.add_url_rule(f"/_sandbox/{rule}", f"_sandbox_{rule}", view, methods=methods)


def _object() -> dict:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status, content_type="application/json; charset=utf-8")
