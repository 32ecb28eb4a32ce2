"""The Feishu Open API, in verbs the bot means, through lark-oapi.

Every call checks success in one place and raises FeishuError (bot/feishu/errors.py: code, msg, log_id, HTTP
status and the rate-limit reset when given). The SDK neither retries nor drops a rejected tenant token; retries are the
job runner's business (bot/jobs/retry.py), and the token cache and kept-alive connections are
bot/feishu/connection.py's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import lark_oapi as lark
import requests
from lark_oapi.api.bitable.v1 import (
    AppTableRecord,
    ListAppTableFieldRequest,
    SearchAppTableRecordRequest,
    SearchAppTableRecordRequestBody,
    UpdateAppTableRecordRequest,
)
from lark_oapi.api.contact.v3 import BatchGetIdUserRequest, BatchGetIdUserRequestBody, GetUserRequest
from lark_oapi.api.drive.v1 import SubscribeFileRequest
from lark_oapi.api.hire.v1 import (
    BatchQueryExternalInterviewRequest,
    BatchQueryExternalInterviewRequestBody,
    CreateExternalInterviewAssessmentRequest,
    ExternalInterviewAssessment,
    ListInterviewFeedbackFormRequest,
    PatchExternalInterviewAssessmentRequest,
)
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetMessageRequest,
    GetMessageResourceRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.api.wiki.v2 import GetNodeSpaceRequest
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.token.manager import TokenManager

from bot import metrics
from bot.feishu.connection import TOKENS, keep_connections_alive
from bot.feishu.errors import FeishuError, Written  # apart, so code that only catches them needs no SDK

PAGE = 500  # records/search's largest page

FORMS_PAGE = 100  # feedback forms per page, the most Feishu gives
FORMS_PAGES = 100  # pages read at most in one sync (10,000 forms)
NO_NAME_AGAIN = 600.0  # seconds before asking again for a name Feishu would not give


@dataclass(frozen=True)
class Downloaded:
    """A file downloaded from a message: its bytes, and its name as the answer gave it (None: not given)."""

    data: bytes
    name: str | None
    content_type: str


class Feishu:
    """A lark-oapi client for one app, with the calls the bot makes."""

    def __init__(self, app_id: str, app_secret: str, domain: str, timeout: float = 10.0, log_level: str = "WARNING"):
        TOKENS.install()
        keep_connections_alive()
        level = getattr(lark.LogLevel, log_level, lark.LogLevel.WARNING)
        self.client = (lark.Client.builder().app_id(app_id).app_secret(app_secret).domain(domain)
                       .timeout(timeout).log_level(level).build())
        self._names: dict[str, tuple[str | None, float]] = {}

    def patch_assessment(self, assessment_id: str, body: dict) -> Written:
        """PATCH /open-apis/hire/v1/external_interview_assessments/:id with exactly `body`."""
        request = (PatchExternalInterviewAssessmentRequest.builder()
                   .external_interview_assessment_id(assessment_id)
                   .request_body(ExternalInterviewAssessment(body)).build())
        return self._call("patch_assessment", lambda: self.client.hire.v1.external_interview_assessment.patch(request))

    def create_assessment(self, body: dict) -> Written:
        """POST /open-apis/hire/v1/external_interview_assessments: `body` carries external_interview_id and the
        idempotency key external_id; the new id is `data.external_interview_assessment.id`."""
        request = (CreateExternalInterviewAssessmentRequest.builder()
                   .request_body(ExternalInterviewAssessment(body)).build())
        return self._call("create_assessment",
                          lambda: self.client.hire.v1.external_interview_assessment.create(request))

    def interview_assessments(self, interview_id: str) -> list[dict]:
        """The assessments Feishu holds for one external interview (POST …/external_interviews/batch_query)."""
        request = (BatchQueryExternalInterviewRequest.builder().page_size(20)
                   .request_body(BatchQueryExternalInterviewRequestBody.builder()
                                 .external_interview_id_list([interview_id]).build()).build())
        written = self._call("interview_assessments",
                             lambda: self.client.hire.v1.external_interview.batch_query(request))
        return [a for item in written.data.get("items") or () if item.get("id") == interview_id
                for a in item.get("interview_assessments") or ()]

    def feedback_forms(self, page_size: int = FORMS_PAGE) -> list[dict]:
        """Every feedback form's newest version (GET /open-apis/hire/v1/interview_feedback_forms, page by page; the
        page size is always given: Feishu's default is 0). Needs hire:interview:readonly."""
        found: list[dict] = []
        token: str | None = None
        for _ in range(FORMS_PAGES):
            builder = ListInterviewFeedbackFormRequest.builder().page_size(page_size)
            if token:
                builder = builder.page_token(token)
            request = builder.build()
            written = self._call("feedback_forms",
                                 lambda request=request: self.client.hire.v1.interview_feedback_form.list(request))
            found += [item for item in written.data.get("items") or () if isinstance(item, dict)]
            token = written.data.get("page_token")
            if not written.data.get("has_more") or not token:
                break
        return found

    def open_ids(self, emails: list[str], mobiles: list[str]) -> dict[str, str]:
        """The open_ids of people named by email or mobile (POST /open-apis/contact/v3/users/batch_get_id);
        those Feishu does not know are left out. At most 50 of each per call."""
        request = (BatchGetIdUserRequest.builder().user_id_type("open_id")
                   .request_body(BatchGetIdUserRequestBody.builder().emails(emails).mobiles(mobiles).build()).build())
        written = self._call("open_ids", lambda: self.client.contact.v3.user.batch_get_id(request))
        found: dict[str, str] = {}
        for user in written.data.get("user_list") or ():
            if user.get("user_id"):
                for name in ("email", "mobile"):
                    if user.get(name):
                        found[user[name]] = user["user_id"]
        return found

    def reply_card(self, message_id: str, card: dict, uuid: str) -> Written:
        """Reply to a message with a card; the uuid makes a repeated reply a no-op for an hour."""
        request = (ReplyMessageRequest.builder().message_id(message_id)
                   .request_body(ReplyMessageRequestBody.builder().msg_type("interactive")
                                 .content(json.dumps(card, ensure_ascii=False)).uuid(uuid[:50]).build())
                   .build())
        return self._call("reply_card", lambda: self.client.im.v1.message.reply(request))

    def send_card(self, receive_id: str, card: dict, uuid: str, id_type: str = "open_id") -> Written:
        """Send a card to a person (open_id) or a chat (chat_id)."""
        request = (CreateMessageRequest.builder().receive_id_type(id_type)
                   .request_body(CreateMessageRequestBody.builder().receive_id(receive_id).msg_type("interactive")
                                 .content(json.dumps(card, ensure_ascii=False)).uuid(uuid[:50]).build())
                   .build())
        return self._call("send_card", lambda: self.client.im.v1.message.create(request))

    def send_text(self, receive_id: str, text: str, uuid: str) -> Written:
        """Send a plain text message to a person (when Feishu refuses a card, text may still get through)."""
        request = (CreateMessageRequest.builder().receive_id_type("open_id")
                   .request_body(CreateMessageRequestBody.builder().receive_id(receive_id).msg_type("text")
                                 .content(json.dumps({"text": text}, ensure_ascii=False)).uuid(uuid[:50]).build())
                   .build())
        return self._call("send_text", lambda: self.client.im.v1.message.create(request))

    def update_card(self, message_id: str, card: dict) -> Written:
        """Replace a card the bot sent (PATCH /open-apis/im/v1/messages/:message_id)."""
        request = (PatchMessageRequest.builder().message_id(message_id)
                   .request_body(PatchMessageRequestBody.builder().content(json.dumps(card, ensure_ascii=False))
                                 .build()).build())
        return self._call("update_card", lambda: self.client.im.v1.message.patch(request))

    def delayed_update(self, token: str, card: dict) -> Written:
        """Replace a card after its callback was answered (callback token: 30 minutes, two uses)."""
        request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.POST)
                   .uri("/open-apis/interactive/v1/card/update")
                   .token_types({lark.AccessTokenType.TENANT})
                   .headers({"Content-Type": "application/json; charset=utf-8"})
                   .body({"token": token, "card": card}).build())
        return self._call("delayed_update", lambda: self.client.request(request))

    def message_file(self, message_id: str, file_key: str, limit: int) -> Downloaded:
        """A file sent in a message (GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=file),
        at most `limit` bytes (TooLarge beyond). https://open.feishu.cn/document/server-docs/im-v1/message/get-2"""
        request = (GetMessageResourceRequest.builder().message_id(message_id).file_key(file_key).type("file")
                   .build())
        answered = []

        def send():  # type: ignore[no-untyped-def]
            answered.append(self.client.im.v1.message_resource.get(request))
            return answered[-1]

        with keep_connections_alive().capped(limit):
            self._call("message_file", send, whole=True)
        response = answered[-1]
        headers = {k.lower(): v for k, v in (response.raw.headers or {}).items()} if response.raw else {}
        return Downloaded(response.file.read() if response.file else b"", response.file_name,
                          headers.get("content-type", ""))

    def message_content(self, message_id: str) -> tuple[str, dict]:
        """A message's type and content (GET /open-apis/im/v1/messages/:message_id): a reply's parent, read for the
        file it holds. https://open.feishu.cn/document/server-docs/im-v1/message/get"""
        request = GetMessageRequest.builder().message_id(message_id).build()
        written = self._call("message_content", lambda: self.client.im.v1.message.get(request))
        item = next(iter(written.data.get("items") or ()), {})
        try:
            content = json.loads((item.get("body") or {}).get("content") or "{}")
        except ValueError:
            content = {}
        return str(item.get("msg_type") or ""), content if isinstance(content, dict) else {}

    def wiki_object(self, node_token: str) -> tuple[str, str]:
        """What a wiki node holds: (obj_type, obj_token) — a base's app_token when obj_type is bitable
        (GET /open-apis/wiki/v2/spaces/get_node)."""
        request = GetNodeSpaceRequest.builder().token(node_token).obj_type("wiki").build()
        written = self._call("wiki_node", lambda: self.client.wiki.v2.space.get_node(request))
        node = written.data.get("node") or {}
        return str(node.get("obj_type") or ""), str(node.get("obj_token") or "")

    def table_fields(self, app_token: str, table_id: str) -> list[dict]:
        """A table's columns: `{field_id, field_name, type, …}` (GET …/apps/:app_token/tables/:table_id/fields)."""
        fields: list[dict] = []
        page: str | None = None
        while True:
            builder = ListAppTableFieldRequest.builder().app_token(app_token).table_id(table_id).page_size(100)
            request = (builder.page_token(page) if page else builder).build()
            written = self._call("table_fields", lambda request=request: self.client.bitable.v1.app_table_field.list(
                request))
            fields += written.data.get("items") or []
            page = written.data.get("page_token") if written.data.get("has_more") else None
            if not page:
                return fields

    def table_records(self, app_token: str, table_id: str, view_id: str | None = None,
                      page_token: str | None = None) -> tuple[list[dict], str | None]:
        """One page of a table's records, `{record_id, fields}` keyed by field name, and the next page's token
        (None: the last). POST …/tables/:table_id/records/search with page_size 500, people as open_ids.
        https://open.feishu.cn/document/docs/bitable-v1/app-table-record/search"""
        builder = (SearchAppTableRecordRequest.builder().app_token(app_token).table_id(table_id).page_size(PAGE)
                   .user_id_type("open_id"))
        if page_token:
            builder = builder.page_token(page_token)
        body = SearchAppTableRecordRequestBody.builder()
        if view_id:
            body = body.view_id(view_id)
        request = builder.request_body(body.build()).build()
        written = self._call("table_records", lambda: self.client.bitable.v1.app_table_record.search(request))
        more = written.data.get("page_token") if written.data.get("has_more") else None
        return list(written.data.get("items") or []), more or None

    def update_record(self, app_token: str, table_id: str, record_id: str, fields: dict) -> Written:
        """Write cells of one record (PUT …/tables/:table_id/records/:record_id with `{"fields": …}`)."""
        request = (UpdateAppTableRecordRequest.builder().app_token(app_token).table_id(table_id).record_id(record_id)
                   .request_body(AppTableRecord.builder().fields(fields).build()).build())
        return self._call("update_record", lambda: self.client.bitable.v1.app_table_record.update(request))

    def subscribe_table(self, app_token: str) -> Written:
        """Ask for the base's record-changed events (POST /open-apis/drive/v1/files/:file_token/subscribe
        ?file_type=bitable); only the base's owner or a manager may."""
        request = SubscribeFileRequest.builder().file_token(app_token).file_type("bitable").build()
        return self._call("subscribe_table", lambda: self.client.drive.v1.file.subscribe(request))

    def user_name(self, open_id: str) -> str | None:
        """The person's display name, or None when the app may not read it (cached per process: a name for good, a
        refusal for NO_NAME_AGAIN seconds, as the person may yet be added to the app's range)."""
        if open_id in self._names:
            name, at = self._names[open_id]
            if name is not None or time.monotonic() - at < NO_NAME_AGAIN:
                return name
        request = GetUserRequest.builder().user_id(open_id).user_id_type("open_id").build()
        try:
            written = self._call("user_name", lambda: self.client.contact.v3.user.get(request))
            name = (written.data.get("user") or {}).get("name") or None
        except FeishuError as exc:
            if exc.code is None or exc.token_invalid or exc.rate_limited:
                return None  # not cached: may work next time
            name = None
        self._names[open_id] = (name, time.monotonic())
        return name

    def bot_open_id(self) -> str | None:
        """The bot's own open_id (GET /open-apis/bot/v3/info)."""
        request = (lark.BaseRequest.builder().http_method(lark.HttpMethod.GET).uri("/open-apis/bot/v3/info")
                   .token_types({lark.AccessTokenType.TENANT}).build())
        raw = self._call("bot_open_id", lambda: self.client.request(request), whole=True)
        return (raw.data.get("bot") or {}).get("open_id")

    def tenant_token(self) -> str:
        """Fetch a tenant token (used by the set-up check)."""
        try:
            return TokenManager.get_self_tenant_token(self.client._config)
        except ObtainAccessTokenException as exc:
            raise FeishuError(getattr(exc, "code", None), str(exc)) from None
        except requests.RequestException as exc:
            raise FeishuError(None, f"cannot reach Feishu: {type(exc).__name__}") from None

    def _call(self, endpoint: str, send, whole: bool = False) -> Written:  # type: ignore[no-untyped-def]
        """One Open API call, counted by endpoint, Feishu code and HTTP status (bot/metrics.py)."""
        started = time.perf_counter()
        code: int | None = None
        status: int | None = None
        try:
            written = self._checked(send, whole)
            code, status = 0, written.status
            return written
        except FeishuError as exc:
            code, status = exc.code, exc.status
            raise
        finally:
            metrics.OPENAPI_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
            metrics.OPENAPI.labels(endpoint, *metrics.openapi_result(code, status)).inc()

    def _checked(self, send, whole: bool) -> Written:  # type: ignore[no-untyped-def]
        try:
            response = send()
        except requests.Timeout:
            raise FeishuError(None, "timed out waiting for Feishu") from None
        except requests.RequestException as exc:
            raise FeishuError(None, f"cannot reach Feishu: {type(exc).__name__}") from None
        except ObtainAccessTokenException as exc:
            raise FeishuError(getattr(exc, "code", None), "could not obtain a tenant token",
                              credentials=getattr(exc, "code", None) is not None) from None
        except ValueError:  # a non-JSON answer (an HTML 502 page, say)
            raise FeishuError(None, "Feishu answered with something that is not JSON") from None
        raw = response.raw
        headers = {k.lower(): v for k, v in (raw.headers or {}).items()} if raw is not None else {}
        log_id = response.get_log_id() or headers.get("x-tt-logid")
        status = raw.status_code if raw is not None else None
        if response.code != 0 or (status is not None and status >= 400):
            raise FeishuError(response.code, response.msg or "", log_id, status, _reset(headers))
        data = _content(raw)
        if not whole:
            data = data.get("data") or {}
        return Written(log_id, data, status)


def _content(raw: lark.RawResponse | None) -> dict:
    if raw is None or not raw.content:
        return {}
    try:
        value = json.loads(raw.content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reset(headers: dict) -> float | None:
    try:
        return float(headers["x-ogw-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
