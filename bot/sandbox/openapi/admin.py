"""The sandbox Open API's own endpoints under /_sandbox/: read what the bot did, switch faults, reset."""

from __future__ import annotations

import base64
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
    def push_over_longconn(self, payload: dict, timeout: float = 10.0, parts: int = 1) -> tuple[int, dict]: ...
    def longconn_fault(self, kind: str | None, **params: object) -> tuple[int, dict]: ...
    def feedback_forms(self) -> dict: ...
    def edit_form(self, word: str, changes: dict | None = None) -> dict: ...
    def longconn_status(self) -> dict: ...
    def record_user_file(self, message_id: str, chat_id: str, sender: str, file_name: str, data: bytes) -> str: ...
    def add_contacts(self, contacts: dict[str, str]) -> None: ...
    def put_table(self, app_token: str, table_id: str, fields: list[dict], records: dict[str, dict], *,
                  shared: bool = True, wiki: str | None = None) -> None: ...
    @property
    def bitables(self): ...  # type: ignore[no-untyped-def]


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
        timeout, parts = body.get("timeout", 10.0), body.get("parts", 1)
        status, answer = api.push_over_longconn(body["payload"], float(timeout) if isinstance(timeout, int | float)
                                                else 10.0, parts if type(parts) is int and parts >= 1 else 1)
        return _json(answer, status)

    def longconn_faults() -> Response:
        if request.method == "GET":
            return _json({k: v for k, v in api.longconn_status().items() if k in ("armed", "counts")})
        params = _object()
        status, answer = api.longconn_fault(None if request.method == "DELETE" else str(params.pop("kind", "")),
                                            **({} if request.method == "DELETE" else params))
        return _json(answer, status)

    def forms() -> Response:
        if request.method == "GET":
            return _json(api.feedback_forms())
        body = _object()
        try:
            return _json({"form": api.edit_form(str(body.get("form", "")), body)})
        except KeyError:
            return _json({"error": f"no feedback form called {body.get('form')!r}"}, 404)

    def files() -> Response:
        body = _object()
        try:
            data = base64.b64decode(str(body["content_b64"]), validate=True)
            key = api.record_user_file(str(body["message_id"]), str(body["chat_id"]), str(body["sender"]),
                                       str(body["file_name"]), data)
        except KeyError as exc:
            return _json({"error": f"missing {exc.args[0]}"}, 400)
        except ValueError:
            return _json({"error": "content_b64 is not base64"}, 400)
        return _json({"file_key": key})

    def contacts() -> Response:
        people = _object()
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in people.items()):
            return _json({"error": "expected {email or mobile: open_id}"}, 400)
        api.add_contacts(people)
        return _json({"contacts": len(people)})

    def bitable() -> Response:
        if request.method == "GET":
            try:
                return _json(api.bitables.table(request.args.get("app_token", ""), request.args.get("table_id", "")))
            except Exception as exc:  # an unknown base or table
                return _json({"error": str(exc)}, 404)
        body = _object()
        if not isinstance(body.get("fields"), list) or not isinstance(body.get("records"), dict):
            return _json({"error": "expected {app_token, table_id, fields: [...], records: {...}}"}, 400)
        api.put_table(str(body.get("app_token")), str(body.get("table_id")), body["fields"], body["records"],
                      shared=bool(body.get("shared", True)), wiki=body.get("wiki"))
        return _json({"ok": True})

    for rule, view, methods in [("state", state, ["GET"]), ("messages", messages, ["GET", "POST"]),
                                ("forms", forms, ["GET", "POST"]), ("files", files, ["POST"]),
                                ("bitable", bitable, ["GET", "POST"]),
                                ("contacts", contacts, ["POST"]),
                                ("calls", calls, ["GET"]), ("faults", faults, ["GET", "POST", "DELETE"]),
                                ("callback_tokens", callback_tokens, ["POST"]), ("users", users, ["POST"]),
                                ("reset", reset, ["POST"]), ("longconn", longconn, ["GET", "POST"]),
                                ("longconn/faults", longconn_faults, ["GET", "POST", "DELETE"])]:
        app.add_url_rule(f"/_sandbox/{rule}", f"_sandbox_{rule.replace('/', '_')}", view, methods=methods)


def _object() -> dict:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status, content_type="application/json; charset=utf-8")
