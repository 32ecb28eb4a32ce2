"""The sandbox Open API itself, with no web framework in it: its state (assessments, messages, tokens, faults,
calls) and the checks Feishu makes before an endpoint runs; the endpoints are endpoints.py. Front doors hand it a
`Request` and send back its `Answer`: bot/sandbox/openapi/app.py serves it over HTTP, tests/support/openapi.py
mounts it on `responses` in the tests' own process."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.sandbox.openapi.endpoints import Endpoints
from bot.sandbox.openapi.faults import Faults, check_endpoint, make_fault
from bot.sandbox.openapi.forms import Forms
from bot.sandbox.openapi.messages import Messages
from bot.sandbox.openapi.tables import Bitables
from bot.sandbox.openapi.wire import Answer, Call, OpenAPIError, Request, StateWriter, dropped, rate_limited

if TYPE_CHECKING:
    from bot.sandbox.openapi.longconn import LongConnServer

BOT_OPEN_ID = "ou_bot0000000000000000000000000000"
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


class FakeOpenAPI(Endpoints):
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
        call = Call(request, endpoint)
        try:
            answer = self._before(call) or view(call, **params)
        except OpenAPIError as error:
            answer = error.response(call.log_id)
        answer.headers["X-Tt-Logid"] = call.log_id
        self._record(call, answer)
        return answer

    def _route(self, request: Request) -> tuple[str, Callable[..., Answer], dict[str, str]]:
        for method, pattern, endpoint, view in self._routes:
            found = pattern.match(request.path) if method == request.method else None
            if found and (endpoint != "ws_endpoint" or self.longconn is not None):
                return endpoint, view, found.groupdict()
        return "other", self._missing, {}

    def _before(self, call: Call) -> Answer | None:
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

    def _record(self, call: Call, answer: Answer) -> None:
        request = call.request
        text = request.body.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        if isinstance(body, dict) and "app_secret" in body:
            body = {**body, "app_secret": "***"}
        entry = {"time": self.clock(), "monotonic": time.monotonic(), "method": request.method,
                 "path": request.path, "query": request.args, "endpoint": call.endpoint,
                 "status": None if answer.drop else answer.status,
                 "code": answer.code, "body": body,
                 "log_id": call.log_id, "faults": call.faults, "applied": call.applied}
        with self._lock:
            self._calls.append(entry)

    def _applied(self, call: Call) -> None:
        call.applied = True
        self._changed()

    def _missing(self, call: Call) -> Answer:
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

    def _throttle(self, call: Call, limit: int) -> None:
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
