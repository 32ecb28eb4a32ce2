"""The sandbox Open API itself, with no web framework in it: its state (assessments, messages, tokens, faults,
calls), the routes, and the checks Feishu makes before an endpoint runs. Front doors hand it a `Request` and send
back its `Answer`: bot/sandbox/openapi/app.py serves it over HTTP, tests/support/openapi.py mounts it on
`responses` in the tests' own process."""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.sandbox.openapi import records
from bot.sandbox.openapi.checks import CREATE_FIELDS, assessment_problems
from bot.sandbox.openapi.faults import Faults, check_endpoint, make_fault
from bot.sandbox.openapi.forms import Forms
from bot.sandbox.openapi.messages import Messages
from bot.sandbox.openapi.tables import Bitables
from bot.sandbox.openapi.wire import (
    Answer,
    OpenAPIError,
    Request,
    StateWriter,
    dropped,
    field_invalid,
    invalid_param,
    json_body,
    json_response,
    new_log_id,
    rate_limited,
)

if TYPE_CHECKING:
    from bot.sandbox.openapi.longconn import LongConnServer

BOT_OPEN_ID = "ou_bot0000000000000000000000000000"
TOKEN_TTL = 7200
TOKEN_REUSE = 1800  # Feishu hands out the same token while 30 minutes or more remain
MAX_CALLS = 100_000
SCOPES = {"patch": "hire:external_application", "create": "hire:external_application",
          "reply": "im:message, im:message:send_as_bot", "send": "im:message, im:message:send_as_bot",
          "message_patch": "im:message, im:message:update", "card_update": "im:message, im:message:update",
          "contact": "contact:user.base:readonly", "bot": "bot:info", "interviews": "hire:external_application",
          "user_ids": "contact:user.id:readonly", "forms": "hire:interview:readonly, hire:interview",
          "resource": "im:message, im:message:readonly, im:message.history:readonly",
          "message_get": "im:message, im:message:readonly", "records": "base:record:retrieve, bitable:app, "
          "bitable:app:readonly", "fields": "base:field:read, bitable:app, bitable:app:readonly",
          "record_update": "base:record:update, bitable:app", "subscribe": "docs:doc, docs:event:subscribe, "
          "drive:drive, sheets:spreadsheet", "wiki_node": "wiki:wiki, wiki:wiki:readonly"}
_GATEWAY_OFF = "the long-connection gateway is off (start with --longconn)"
_TABLE = "/open-apis/bitable/v1/apps/<app_token>/tables/<table_id>"


@dataclass
class _Call:
    """What one request is, and what happened to it, while it is handled."""

    request: Request
    endpoint: str
    log_id: str = field(default_factory=new_log_id)
    faults: list[str] = field(default_factory=list)
    applied: bool = False

    def body(self, invalid: Callable[[str], OpenAPIError] = field_invalid) -> dict:
        return json_body(self.request.body, invalid)


class FakeOpenAPI:
    """Feishu's Open API for the calls the bot makes, in memory (optionally mirrored to a JSON file)."""

    def __init__(self, *, app_id: str = "cli_sandbox", app_secret: str = "sandbox-secret", auto_create: bool = True,
                 users: dict[str, str] | None = None, patch_rate_limit: int | None = None,
                 state_file: str | None = None, assessments: dict[str, dict] | None = None,
                 bot_open_id: str = BOT_OPEN_ID, clock: Callable[[], float] = time.time,
                 longconn: LongConnServer | None = None, forms: list[dict] | None = None,
                 message_ids: Callable[[], str] | None = None):
        self.longconn = longconn  # the long-connection gateway, whose endpoint this app serves
        self.app_id, self.app_secret, self.auto_create, self.bot_open_id = app_id, app_secret, auto_create, bot_open_id
        self.users: dict[str, str] = dict(users or {})
        self.contacts: dict[str, str] = {}  # email or mobile -> open_id, for batch_get_id
        self.patch_rate_limit, self.clock = patch_rate_limit, clock
        self.faults = Faults()
        self._lock = threading.RLock()
        self._seed = copy.deepcopy(assessments or {})
        self._seed_forms = copy.deepcopy(forms)  # None: the three sandbox forms (bot/sandbox/openapi/forms.py)
        self._messages = Messages(self._lock, clock, app_id, message_ids)
        self.bitables = Bitables(self._lock, clock)
        self._tokens: dict[str, float] = {}  # tenant token -> expiry
        self._calls: deque[dict] = deque(maxlen=MAX_CALLS)
        self._patch_times: deque[float] = deque()
        self._clear()
        self._writer: StateWriter | None = None
        if state_file:
            self._load(state_file)
            self._writer = StateWriter(state_file, self._snapshot)
        self._routes = self._route_table()

    # --- the Python API -------------------------------------------------------------------------------------

    def fault(self, endpoint: str, kind: str, **params: object) -> None:
        """Inject a fault (kinds in faults.KINDS); `invalidate_tokens` acts at once."""
        if kind != "invalidate_tokens":
            self.faults.add(make_fault(endpoint, kind, params))
            return
        check_endpoint(endpoint)
        if params:
            raise ValueError("invalidate_tokens takes no parameters")
        with self._lock:
            self._tokens.clear()

    def clear_faults(self) -> None:
        """Remove every fault still active."""
        self.faults.clear()

    def assessments(self) -> dict[str, dict]:
        """Every assessment as stored, by id."""
        with self._lock:
            return copy.deepcopy(self._assessments)

    def add_assessments(self, assessments: dict[str, dict]) -> None:
        """Assessments Hire holds already (made outside the bot), by id, as stored: each with its
        external_interview_id, so batch_query finds it."""
        with self._lock:
            self._assessments.update({aid: {**copy.deepcopy(held), "id": aid} for aid, held in assessments.items()})
            self._changed()

    def messages(self, chat_id: str | None = None) -> list[dict]:
        """Every message (the bot's, and users' the sandbox was told about), oldest first."""
        return self._messages.listed(chat_id)

    def calls(self, endpoint: str | None = None) -> list[dict]:
        """The log of Open API requests, oldest first, optionally of one endpoint class."""
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if endpoint in (None, c["endpoint"])]

    @property
    def throttled(self) -> int:
        """How many PATCHes the enforced rate limit refused."""
        return self._throttled

    def issue_callback_token(self, message_id: str) -> str:
        """A card callback token for a stored message, as card.action.trigger carries (30 minutes, 2 uses)."""
        return self._messages.issue_callback_token(message_id)

    def record_user_message(self, message_id: str, chat_id: str, sender: str, text: str) -> dict:
        """Remember a message a user sent the bot, so replies to it land in its chat."""
        message = self._messages.record_user_message(message_id, chat_id, sender, text)
        self._changed()
        return message

    def record_bot_card(self, message_id: str, chat_id: str, card: dict) -> None:
        """Remember a card the bot sent before this stand-in started (nothing if the id is known already)."""
        self._messages.record_bot_card(message_id, chat_id, card)
        self._changed()

    def add_users(self, users: dict[str, str]) -> None:
        """Add people (open_id -> name) to the contact directory."""
        with self._lock:
            self.users.update(users)

    def push_over_longconn(self, payload: dict, timeout: float = 10.0, parts: int = 1) -> tuple[int, dict]:
        """Push an event or callback to the bot over its long connection (in `parts` frames): (200, its answer) or
        (503/504, why)."""
        if self.longconn is None:
            return 503, {"error": _GATEWAY_OFF}
        from bot.sandbox.openapi.longconn import PushFailed

        try:
            return 200, {"answer": self.longconn.push(payload, timeout, parts)}
        except PushFailed as exc:
            return 504, {"error": f"long connection: {exc}"}

    def longconn_status(self) -> dict:
        """Whether the gateway is on, how many connections it has, when each was accepted, and its faults."""
        if self.longconn is None:
            return {"enabled": False, "connections": 0}
        return {"enabled": True, "connections": self.longconn.connections, "handshakes": self.longconn.handshakes,
                "opened": list(self.longconn.opened), **self.longconn.faults()}

    def longconn_fault(self, kind: str | None, **params: object) -> tuple[int, dict]:
        """Arm a fault of the gateway (None: disarm them all): (200, the faults) or (400/503, why)."""
        if self.longconn is None:
            return 503, {"error": _GATEWAY_OFF}
        if kind is None:
            self.longconn.clear_faults()
            return 200, self.longconn.faults()
        try:
            return 200, self.longconn.fault(kind, **params)
        except ValueError as exc:
            return 400, {"error": str(exc)}

    def feedback_forms(self) -> dict:
        """Every version of every feedback form, and the newest of each ({"versions", "newest"})."""
        with self._lock:
            return self._forms.state()

    def put_forms(self, forms: list[dict]) -> None:
        """Replace every feedback form with these (in the shape forms.seed_forms() gives; new ids, version 1), as
        if Hire held only them; `reset` brings back the forms the sandbox started with."""
        with self._lock:
            self._forms = Forms(forms)
            self._changed()

    def edit_form(self, word: str, changes: dict | None = None) -> dict:
        """Edit a form as a recruiter would in Hire: a new version, with new ids for the form and all it holds.
        KeyError for a form nobody knows."""
        with self._lock:
            made = self._forms.edit(word, changes or {})
            self._changed()
            return made

    def record_user_file(self, message_id: str, chat_id: str, sender: str, file_name: str, data: bytes, *,
                         file_key: str | None = None) -> str:
        """Remember a file a user sent the bot (its bytes, served by the message resource endpoint); its file_key
        (a new one unless given)."""
        file_key = self._messages.record_user_file(message_id, chat_id, sender, file_name, data, file_key)
        self._changed()
        return file_key

    def put_table(self, app_token: str, table_id: str, fields: list[dict], records: dict[str, dict], *,
                  shared: bool = True, wiki: str | None = None) -> None:
        """Create or replace a Bitable table (fields `{field_name, type}`; records: record_id -> fields by name)."""
        self.bitables.put_table(app_token, table_id, fields, records, shared=shared, wiki=wiki)
        self._changed()

    def add_contacts(self, contacts: dict[str, str]) -> None:
        """Let batch_get_id find these people (email or mobile -> open_id)."""
        with self._lock:
            self.contacts.update(contacts)

    def reset(self) -> None:
        """Back to the initial state; tenant tokens stay valid, as they would at Feishu."""
        self.faults.clear()
        with self._lock:
            self._clear()
            self._calls.clear()
            self._patch_times.clear()
            self._changed()

    def close(self) -> None:
        """Write the state file one last time."""
        if self._writer:
            self._writer.close()

    # --- state ----------------------------------------------------------------------------------------------

    def _clear(self) -> None:
        self._assessments: dict[str, dict] = copy.deepcopy(self._seed)
        self._forms = Forms(self._seed_forms)
        self._external_ids: dict[str, str] = {}
        self._messages.clear()
        self.bitables.clear()
        self._throttled = 0

    def _snapshot(self) -> str:
        with self._lock:
            return json.dumps({"assessments": self._assessments, "external_ids": self._external_ids,
                               "messages": list(self._messages.by_id.values()), "throttled": self._throttled,
                               "forms": self._forms.state(), "bitables": self.bitables.snapshot()}, ensure_ascii=False,
                              indent=2)

    def _load(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
        except FileNotFoundError:
            return
        self._assessments.update(saved.get("assessments", {}))
        self._external_ids.update(saved.get("external_ids", {}))
        self._forms.load(saved.get("forms") or {})
        self._messages.load(saved.get("messages", []))
        self.bitables.load(saved.get("bitables", {}))

    def _changed(self) -> None:
        if self._writer:
            self._writer.dirty()

    # --- one request ----------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        """Answer one Open API request as Feishu would, and log it."""
        endpoint, view, params = self._route(request)
        call = _Call(request, endpoint)
        try:
            answer = self._before(call) or view(call, **params)
        except OpenAPIError as error:
            answer = error.response(call.log_id)
        answer.headers["X-Tt-Logid"] = call.log_id
        self._record(call, answer)
        return answer

    def _route_table(self) -> list[tuple[str, re.Pattern[str], str, Callable[..., Answer]]]:
        routes: list[tuple[str, str, str, Callable[..., Answer]]] = [
            ("POST", "/open-apis/auth/v3/tenant_access_token/internal", "token", self._token),
            ("PATCH", "/open-apis/hire/v1/external_interview_assessments/<assessment_id>", "patch", self._patch),
            ("POST", "/open-apis/hire/v1/external_interview_assessments", "create", self._create),
            ("POST", "/open-apis/hire/v1/external_interviews/batch_query", "interviews", self._interviews),
            ("GET", "/open-apis/hire/v1/interview_feedback_forms", "forms", self._feedback_forms),
            ("POST", "/open-apis/contact/v3/users/batch_get_id", "user_ids", self._user_ids),
            ("POST", "/open-apis/im/v1/messages/<message_id>/reply", "reply", self._reply),
            ("POST", "/open-apis/im/v1/messages", "send", self._send),
            ("PATCH", "/open-apis/im/v1/messages/<message_id>", "message_patch", self._message_patch),
            ("POST", "/open-apis/interactive/v1/card/update", "card_update", self._card_update),
            ("GET", "/open-apis/contact/v3/users/<user_id>", "contact", self._contact),
            ("GET", "/open-apis/bot/v3/info", "bot", self._bot_info),
            ("GET", "/open-apis/im/v1/messages/<message_id>/resources/<file_key>", "resource", self._resource),
            ("GET", "/open-apis/im/v1/messages/<message_id>", "message_get", self._message_get),
            ("POST", f"{_TABLE}/records/search", "records", self._records),
            ("GET", f"{_TABLE}/fields", "fields", self._fields),
            ("PUT", f"{_TABLE}/records/<record_id>", "record_update", self._record_update),
            ("POST", "/open-apis/drive/v1/files/<file_token>/subscribe", "subscribe", self._subscribe),
            ("GET", "/open-apis/wiki/v2/spaces/get_node", "wiki_node", self._wiki_node),
            ("POST", "/callback/ws/endpoint", "ws_endpoint", self._ws_endpoint),
        ]
        return [(method, re.compile(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule) + "$"), endpoint, view)
                for method, rule, endpoint, view in routes]

    def _route(self, request: Request) -> tuple[str, Callable[..., Answer], dict[str, str]]:
        for method, pattern, endpoint, view in self._routes:
            found = pattern.match(request.path) if method == request.method else None
            if found and (endpoint != "ws_endpoint" or self.longconn is not None):
                return endpoint, view, found.groupdict()
        return "other", self._missing, {}

    def _before(self, call: _Call) -> Answer | None:
        """Faults first (as Feishu's gateway would fail), then the token, then the enforced rate limit."""
        endpoint = call.endpoint
        if fault := self.faults.take(endpoint, "latency"):
            call.faults.append("latency")
            time.sleep(fault.params["seconds"])  # type: ignore[arg-type]
        if self.faults.take(endpoint, "drop"):
            call.faults.append("drop")
            return dropped()
        if fault := self.faults.take(endpoint, "ratelimit"):
            call.faults.append("ratelimit")
            p = fault.params
            raise rate_limited(p["status"], p["limit"], p["reset"])  # type: ignore[arg-type]
        if fault := self.faults.take(endpoint, "error"):
            call.faults.append("error")
            p = fault.params
            raise OpenAPIError(p["status"], p["code"], p["msg"], html=bool(p["html"]))  # type: ignore[arg-type]
        if self.faults.take(endpoint, "no_scope"):
            call.faults.append("no_scope")
            raise OpenAPIError(400, 99991672, "Access denied. One of the following scopes is required: "
                                              f"[{SCOPES.get(endpoint, '')}]. 应用尚未开通所需的应用身份权限")
        if endpoint not in ("token", "ws_endpoint", "other"):  # the two that take the app's credentials instead
            self._authorize(call.request)
        if endpoint == "patch" and self.patch_rate_limit:
            self._throttle(call, self.patch_rate_limit)
        return None

    def _record(self, call: _Call, answer: Answer) -> None:
        request = call.request
        text = request.body.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        if isinstance(body, dict) and "app_secret" in body:
            body = {**body, "app_secret": "***"}
        reply = answer.json()
        entry = {"time": self.clock(), "monotonic": time.monotonic(), "method": request.method,
                 "path": request.path, "query": request.args, "endpoint": call.endpoint,
                 "status": None if answer.drop else answer.status,
                 "code": reply.get("code") if isinstance(reply, dict) else None, "body": body,
                 "log_id": call.log_id, "faults": call.faults, "applied": call.applied}
        with self._lock:
            self._calls.append(entry)

    def _applied(self, call: _Call) -> None:
        call.applied = True
        self._changed()

    def _missing(self, call: _Call) -> Answer:
        request = call.request
        raise OpenAPIError(404, 99991201, f"resource not found: no {request.method} {request.path} here")

    def _authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not token:
            raise OpenAPIError(400, 99991661, "Missing access token for authorization. "
                                              "Please make a request with token attached.")
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry <= self.clock():
            raise OpenAPIError(400, 99991663, "Invalid access token for authorization. "
                                              "Please make a request with token attached.")

    def _throttle(self, call: _Call, limit: int) -> None:
        """A sliding one-second window, as the PATCH page's "20 次/秒" (20 per second)."""
        now = time.monotonic()
        with self._lock:
            while self._patch_times and self._patch_times[0] <= now - 1.0:
                self._patch_times.popleft()
            if len(self._patch_times) >= limit:
                self._throttled += 1
                call.faults.append("patch_rate_limit")
                raise rate_limited(429, limit, 1)
            self._patch_times.append(now)

    # --- Feishu's endpoints ---------------------------------------------------------------------------------

    def _token(self, call: _Call) -> Answer:
        """https://open.feishu.cn/document/server-docs/authentication-management/access-token/tenant_access_token_internal"""
        body = call.body(lambda what: OpenAPIError(400, 10003, f"invalid param: {what}"))
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            raise OpenAPIError(400, 10014, "app secret invalid")
        now = self.clock()
        with self._lock:
            self._tokens = {t: expiry for t, expiry in self._tokens.items() if expiry > now}
            token, expiry = max(self._tokens.items(), key=lambda item: item[1], default=("", 0.0))
            if expiry - now < TOKEN_REUSE:
                token, expiry = "t-" + secrets.token_hex(20), now + TOKEN_TTL
                self._tokens[token] = expiry
        return json_response({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": int(expiry - now)})

    def _patch(self, call: _Call, assessment_id: str) -> Answer:
        """https://open.feishu.cn/document/hire-v1/get-candidates/import-external-system-information/import-external-interview-info/patch"""
        body = call.body(invalid_param)
        problems = assessment_problems(body)
        if problems:
            raise invalid_param("; ".join(problems))
        with self._lock:
            current = self._assessments.get(assessment_id)
            if current is None and not self.auto_create:
                raise invalid_param(f"external_interview_assessment_id {assessment_id} does not exist")
            current = current or {"id": assessment_id, "external_interview_id": f"sandbox-{assessment_id}"}
            # "没有填写的字段不会被更新": fields left out keep their values. Whether a given
            # assessment_dimension_list replaces or merges with the stored one is not documented; replacing is the
            # stricter assumption (a partial list loses the other dimensions), so the bot must always send them all.
            updated = {**current, **copy.deepcopy(body)}
            self._assessments[assessment_id] = updated
            self._applied(call)
            answer = copy.deepcopy(updated)
        if fault := self.faults.take("patch", "apply_then_fail"):
            call.faults.append("apply_then_fail")
            if fault.params["then"] == "drop":
                return dropped()
            raise OpenAPIError(fault.params["status"], fault.params["code"])  # type: ignore[arg-type]
        return json_response({"code": 0, "msg": "success", "data": {"external_interview_assessment": answer}})

    def _create(self, call: _Call) -> Answer:
        """https://open.feishu.cn/document/server-docs/hire-v1/get-candidates/import-external-system-information/create-4"""
        body = call.body(invalid_param)
        problems = assessment_problems(body, CREATE_FIELDS)
        if "external_interview_id" not in body:
            problems.append("external_interview_id: required")
        if problems:
            raise invalid_param("; ".join(problems))
        fields = copy.deepcopy(body)
        external_id = fields.pop("external_id", None)
        with self._lock:
            known = self._external_ids.get(external_id) if external_id else None
            if known is None:  # a repeated external_id returns the assessment it created first
                known = str(6_900_000_000_000_000_000 + secrets.randbelow(10**17))
                self._assessments[known] = {"id": known, **fields}
                if external_id:
                    self._external_ids[external_id] = known
                self._applied(call)
            created = copy.deepcopy(self._assessments[known])
        if fault := self.faults.take("create", "apply_then_fail"):
            call.faults.append("apply_then_fail")
            if fault.params["then"] == "drop":
                return dropped()
            raise OpenAPIError(fault.params["status"], fault.params["code"])  # type: ignore[arg-type]
        return json_response({"code": 0, "msg": "success", "data": {"external_interview_assessment": created}})

    def _interviews(self, call: _Call) -> Answer:
        """External interviews with their assessments: the only read-back of an assessment (records.py)."""
        with self._lock:
            data = records.interviews(self._assessments, call.request.args, call.body(invalid_param))
        return json_response({"code": 0, "msg": "success", "data": data})

    def _feedback_forms(self, call: _Call) -> Answer:
        """The feedback forms (bot/sandbox/openapi/forms.py); a GET carries no body."""
        if call.request.body:
            raise invalid_param("GET interview_feedback_forms takes no body")
        with self._lock:
            data = self._forms.listed(call.request.args, list(call.request.query.get("interview_feedback_form_ids",
                                                                                     [])))
        return json_response({"code": 0, "msg": "success", "data": data})

    def _user_ids(self, call: _Call) -> Answer:
        with self._lock:
            data = records.user_ids(self.contacts, call.request.args, call.body())
        return json_response({"code": 0, "msg": "success", "data": data})

    def _reply(self, call: _Call, message_id: str) -> Answer:
        data, created = self._messages.reply(message_id, call.body())
        if created:
            self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _send(self, call: _Call) -> Answer:
        data, created = self._messages.send(call.request.args.get("receive_id_type"), call.body())
        if created:
            self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _message_patch(self, call: _Call, message_id: str) -> Answer:
        self._messages.patch(message_id, call.body())
        self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": {}})

    def _card_update(self, call: _Call) -> Answer:
        self._messages.delayed_update(call.body(lambda what: OpenAPIError(400, 100030, f"invalid JSON: {what}")))
        self._applied(call)
        return json_response({"code": 0, "msg": "ok"})

    def _contact(self, call: _Call, user_id: str) -> Answer:
        """https://open.feishu.cn/document/server-docs/contact-v3/user/get"""
        if call.request.args.get("user_id_type", "open_id") != "open_id":
            raise field_invalid("the sandbox knows people by open_id only")
        with self._lock:
            name = self.users.get(user_id)
        if name is None:
            raise OpenAPIError(400, 41050, "no user authority error")
        return json_response({"code": 0, "msg": "success",
                              "data": {"user": {"open_id": user_id, "name": name, "en_name": name}}})

    def _resource(self, call: _Call, message_id: str, file_key: str) -> Answer:
        """A file sent in a message: its bytes, its name in Content-Disposition."""
        data, name = self._messages.resource(message_id, file_key, call.request.args.get("type"))
        quoted = name.encode("ascii", "replace").decode().replace('"', "")
        return Answer(200, data, {"Content-Disposition": f'attachment; filename="{quoted}"'},
                      "application/octet-stream")

    def _message_get(self, call: _Call, message_id: str) -> Answer:
        return json_response({"code": 0, "msg": "success", "data": self._messages.get(message_id)})

    def _records(self, call: _Call, app_token: str, table_id: str) -> Answer:
        data = self.bitables.search(app_token, table_id, call.request.args, call.body())
        return json_response({"code": 0, "msg": "success", "data": data})

    def _fields(self, call: _Call, app_token: str, table_id: str) -> Answer:
        return json_response({"code": 0, "msg": "success", "data": self.bitables.fields(app_token, table_id)})

    def _record_update(self, call: _Call, app_token: str, table_id: str, record_id: str) -> Answer:
        data = self.bitables.update(app_token, table_id, record_id, call.body())
        self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _subscribe(self, call: _Call, file_token: str) -> Answer:
        data = self.bitables.subscribe(file_token, call.request.args.get("file_type"))
        self._changed()
        return json_response({"code": 0, "msg": "success", "data": data})

    def _wiki_node(self, call: _Call) -> Answer:
        return json_response({"code": 0, "msg": "success",
                              "data": self.bitables.node(call.request.args.get("token", ""))})

    def _ws_endpoint(self, call: _Call) -> Answer:
        """The long connection's endpoint: a ws:// URL for this app (bot/sandbox/openapi/longconn.py)."""
        assert self.longconn is not None
        try:
            sent = json.loads(call.request.body or b"null")
        except ValueError:
            sent = None
        status, answer = self.longconn.endpoint(sent)
        return json_response(answer, status)

    def _bot_info(self, call: _Call) -> Answer:
        """https://open.feishu.cn/document/client-docs/bot-v3/obtain-bot-info"""
        return json_response({"code": 0, "msg": "ok", "bot": {"activate_status": 2, "app_name": "assessbot",
                                                              "avatar_url": "", "ip_white_list": [],
                                                              "open_id": self.bot_open_id}})
