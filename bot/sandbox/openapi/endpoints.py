"""Feishu's endpoints, one method each, as the backend (backend.py) routes to them: what each takes, checks,
changes and answers. Each cites the page it follows."""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.sandbox.openapi import records
from bot.sandbox.openapi.checks import CREATE_FIELDS, assessment_problems
from bot.sandbox.openapi.wire import Answer, Call, OpenAPIError, dropped, field_invalid, invalid_param, json_response

if TYPE_CHECKING:
    from bot.sandbox.openapi.faults import Faults
    from bot.sandbox.openapi.forms import Forms
    from bot.sandbox.openapi.longconn import LongConnServer
    from bot.sandbox.openapi.messages import Messages
    from bot.sandbox.openapi.tables import Bitables

TOKEN_TTL = 7200
TOKEN_REUSE = 1800  # Feishu hands out the same token while 30 minutes or more remain
_TABLE = "/open-apis/bitable/v1/apps/<app_token>/tables/<table_id>"
Route = tuple[str, "re.Pattern[str]", str, Callable[..., Answer]]


class Endpoints:
    """The endpoints of FakeOpenAPI, over the state it holds (declared here, set by FakeOpenAPI)."""

    app_id: str
    app_secret: str
    auto_create: bool
    bot_open_id: str
    users: dict[str, str]
    contacts: dict[str, str]
    clock: Callable[[], float]
    faults: Faults
    bitables: Bitables
    longconn: LongConnServer | None
    _lock: threading.RLock
    _tokens: dict[str, float]
    _assessments: dict[str, dict]
    _external_ids: dict[str, str]
    _forms: Forms
    _messages: Messages
    _applied: Callable[[Call], None]  # FakeOpenAPI's: mark the call as having changed the state, and save it
    _changed: Callable[[], None]  # FakeOpenAPI's: save the state soon

    def _route_table(self) -> list[Route]:
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


    def _token(self, call: Call) -> Answer:
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

    def _patch(self, call: Call, assessment_id: str) -> Answer:
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

    def _create(self, call: Call) -> Answer:
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

    def _interviews(self, call: Call) -> Answer:
        """External interviews with their assessments: the only read-back of an assessment (records.py)."""
        with self._lock:
            data = records.interviews(self._assessments, call.request.args, call.body(invalid_param))
        return json_response({"code": 0, "msg": "success", "data": data})

    def _feedback_forms(self, call: Call) -> Answer:
        """The feedback forms (bot/sandbox/openapi/forms.py); a GET carries no body."""
        if call.request.body:
            raise invalid_param("GET interview_feedback_forms takes no body")
        with self._lock:
            data = self._forms.listed(call.request.args, list(call.request.query.get("interview_feedback_form_ids",
                                                                                     [])))
        return json_response({"code": 0, "msg": "success", "data": data})

    def _user_ids(self, call: Call) -> Answer:
        with self._lock:
            data = records.user_ids(self.contacts, call.request.args, call.body())
        return json_response({"code": 0, "msg": "success", "data": data})

    def _reply(self, call: Call, message_id: str) -> Answer:
        data, created = self._messages.reply(message_id, call.body())
        if created:
            self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _send(self, call: Call) -> Answer:
        data, created = self._messages.send(call.request.args.get("receive_id_type"), call.body())
        if created:
            self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _message_patch(self, call: Call, message_id: str) -> Answer:
        self._messages.patch(message_id, call.body())
        self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": {}})

    def _card_update(self, call: Call) -> Answer:
        self._messages.delayed_update(call.body(lambda what: OpenAPIError(400, 100030, f"invalid JSON: {what}")))
        self._applied(call)
        return json_response({"code": 0, "msg": "ok"})

    def _contact(self, call: Call, user_id: str) -> Answer:
        """https://open.feishu.cn/document/server-docs/contact-v3/user/get"""
        if call.request.args.get("user_id_type", "open_id") != "open_id":
            raise field_invalid("the sandbox knows people by open_id only")
        with self._lock:
            name = self.users.get(user_id)
        if name is None:
            raise OpenAPIError(400, 41050, "no user authority error")
        return json_response({"code": 0, "msg": "success",
                              "data": {"user": {"open_id": user_id, "name": name, "en_name": name}}})

    def _resource(self, call: Call, message_id: str, file_key: str) -> Answer:
        """A file sent in a message: its bytes, its name in Content-Disposition."""
        data, name = self._messages.resource(message_id, file_key, call.request.args.get("type"))
        quoted = name.encode("ascii", "replace").decode().replace('"', "")
        return Answer(200, data, {"Content-Disposition": f'attachment; filename="{quoted}"'},
                      "application/octet-stream")

    def _message_get(self, call: Call, message_id: str) -> Answer:
        return json_response({"code": 0, "msg": "success", "data": self._messages.get(message_id)})

    def _records(self, call: Call, app_token: str, table_id: str) -> Answer:
        data = self.bitables.search(app_token, table_id, call.request.args, call.body())
        return json_response({"code": 0, "msg": "success", "data": data})

    def _fields(self, call: Call, app_token: str, table_id: str) -> Answer:
        return json_response({"code": 0, "msg": "success", "data": self.bitables.fields(app_token, table_id)})

    def _record_update(self, call: Call, app_token: str, table_id: str, record_id: str) -> Answer:
        data = self.bitables.update(app_token, table_id, record_id, call.body())
        self._applied(call)
        return json_response({"code": 0, "msg": "success", "data": data})

    def _subscribe(self, call: Call, file_token: str) -> Answer:
        data = self.bitables.subscribe(file_token, call.request.args.get("file_type"))
        self._changed()
        return json_response({"code": 0, "msg": "success", "data": data})

    def _wiki_node(self, call: Call) -> Answer:
        return json_response({"code": 0, "msg": "success",
                              "data": self.bitables.node(call.request.args.get("token", ""))})

    def _ws_endpoint(self, call: Call) -> Answer:
        """The long connection's endpoint: a ws:// URL for this app (bot/sandbox/openapi/longconn.py)."""
        assert self.longconn is not None
        try:
            sent = json.loads(call.request.body or b"null")
        except ValueError:
            sent = None
        status, answer = self.longconn.endpoint(sent)
        return json_response(answer, status)

    def _bot_info(self, call: Call) -> Answer:
        """https://open.feishu.cn/document/client-docs/bot-v3/obtain-bot-info"""
        return json_response({"code": 0, "msg": "ok", "bot": {"activate_status": 2, "app_name": "assessbot",
                                                              "avatar_url": "", "ip_white_list": [],
                                                              "open_id": self.bot_open_id}})
