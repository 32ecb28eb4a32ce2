"""The Open API as `responses` mocks: records every call, answers as configured."""

from __future__ import annotations

import itertools
import json
import re

import responses

from tests.support.ids import DOMAIN


class FeishuHttp:
    """The Open API as `responses` mocks: records every call, answers as configured."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        mock.post(f"{DOMAIN}/open-apis/auth/v3/tenant_access_token/internal",
                  json={"code": 0, "msg": "ok", "tenant_access_token": "t-testtoken0123456789", "expire": 7200})
        self.reply_ids = itertools.count(1)
        mock.add_callback(responses.POST, _re(r"/open-apis/im/v1/messages/[^/]+/reply"), self._message)
        mock.add_callback(responses.POST, _re(r"/open-apis/im/v1/messages"), self._message)
        mock.add_callback(responses.PATCH, _re(r"/open-apis/im/v1/messages/[^/]+"), _ok)
        mock.add_callback(responses.POST, _re(r"/open-apis/interactive/v1/card/update"), _ok)
        mock.add_callback(responses.GET, _re(r"/open-apis/contact/v3/users/.+"),
                          lambda req: (200, {}, json.dumps({"code": 0, "data": {"user": {"name": "Alice Zhang"}}})))

    def _message(self, request):
        data = {"message_id": f"om_reply{next(self.reply_ids):04d}"}
        return 200, {"X-Tt-Logid": "LOGMSG"}, json.dumps({"code": 0, "msg": "success", "data": data})

    def patch_answers(self, *answers: tuple | Exception) -> None:
        """Queue answers for the assessment PATCH: (status, body[, headers]) or an exception; the last repeats."""
        queue = list(answers)

        def answer(request):
            item = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(item, Exception):
                raise item
            status, body, *extra = item
            headers = {"X-Tt-Logid": f"LOG{len(self.calls('PATCH', 'external'))}", **(extra[0] if extra else {})}
            return status, headers, json.dumps(body)

        self.mock.add_callback(responses.PATCH, _re(r"/open-apis/hire/v1/external_interview_assessments/.+"), answer)

    def people(self, known: dict[str, str]) -> None:
        """Answer batch_get_id: each email or mobile in `known` is that open_id; the rest come back without one."""

        def answer(request):
            body = json.loads(request.body)
            users = [{name: ref, **({"user_id": known[ref]} if ref in known else {})}
                     for name, refs in (("email", body.get("emails") or []), ("mobile", body.get("mobiles") or []))
                     for ref in refs]
            return 200, {"X-Tt-Logid": "LOGPEOPLE"}, json.dumps({"code": 0, "msg": "success",
                                                                 "data": {"user_list": users}})

        self.mock.add_callback(responses.POST, _re(r"/open-apis/contact/v3/users/batch_get_id"), answer)

    def forms(self, hire=None):  # type: ignore[no-untyped-def]
        """Serve the feedback form list from the sandbox's Hire (bot/sandbox/openapi/forms.py: one stand-in for the
        sandbox and the tests), or answer with `(status, body)` when given one; the backend."""
        from urllib.parse import parse_qs, urlsplit

        from bot.sandbox.openapi.forms import Forms
        from bot.sandbox.openapi.wire import OpenAPIError

        backend = Forms() if hire is None else hire

        def answer(request):
            if isinstance(backend, tuple):
                return backend[0], {"X-Tt-Logid": "LOGFORMS"}, json.dumps(backend[1])
            query = parse_qs(urlsplit(request.url).query)
            args = {k: v[-1] for k, v in query.items()}
            try:
                data = backend.listed(args, query.get("interview_feedback_form_ids", []))
            except OpenAPIError as exc:
                return 400, {"X-Tt-Logid": "LOGFORMS"}, json.dumps({"code": exc.code, "msg": exc.msg})
            return 200, {"X-Tt-Logid": "LOGFORMS"}, json.dumps({"code": 0, "msg": "success", "data": data},
                                                               ensure_ascii=False)

        self.mock.add_callback(responses.GET, _re(r"/open-apis/hire/v1/interview_feedback_forms"), answer)
        return backend

    def lookups(self) -> list[dict]:
        """The bodies of every batch_get_id call."""
        return [json.loads(c.request.body) for c in self.calls("POST", "/contact/v3/users/batch_get_id")]

    def files(self, held: dict[tuple[str, str], tuple[bytes, str]], *, refuse: tuple[int, int] | None = None) -> None:
        """Serve files from messages: (message_id, file_key) -> (bytes, file name), as the message resource API does
        (type=file required; a key not in the message is 234003). `refuse`: (HTTP status, code) for every call."""

        def answer(request):
            parts = request.path_url.split("?")[0].split("/")
            message_id, file_key = parts[-3], parts[-1]
            if refuse is not None:
                return refuse[0], {"Content-Type": "application/json"}, json.dumps({"code": refuse[1], "msg": "no"})
            if "type=file" not in request.url:
                return 400, {"Content-Type": "application/json"}, json.dumps({"code": 234001, "msg": "bad type"})
            if (message_id, file_key) not in held:
                return 400, {"Content-Type": "application/json"}, json.dumps({"code": 234003,
                                                                             "msg": "File not in message."})
            data, name = held[(message_id, file_key)]
            return 200, {"Content-Type": "application/octet-stream", "X-Tt-Logid": "LOGFILE",
                         "Content-Disposition": f'attachment; filename="{name}"'}, data

        self.mock.add_callback(responses.GET, _re(r"/open-apis/im/v1/messages/[^/]+/resources/[^/?]+"), answer)

    def message_contents(self, held: dict[str, tuple[str, dict]]) -> None:
        """GET /open-apis/im/v1/messages/:message_id: message_id -> (msg_type, content)."""

        def answer(request):
            message_id = request.path_url.split("?")[0].rsplit("/", 1)[1]
            kind, content = held[message_id]
            item = {"message_id": message_id, "msg_type": kind, "body": {"content": json.dumps(content)}}
            return 200, {}, json.dumps({"code": 0, "msg": "success", "data": {"items": [item]}})

        self.mock.add_callback(responses.GET, _re(r"/open-apis/im/v1/messages/[^/?]+"), answer)

    def downloads(self) -> list[str]:
        """The path and query of every file download."""
        return [c.request.url.removeprefix(DOMAIN) for c in self.calls("GET", "/resources/")]

    def calls(self, method: str, fragment: str) -> list:
        return [c for c in self.mock.calls if c.request.method == method and fragment in c.request.url]

    def patches(self) -> list[dict]:
        return [json.loads(c.request.body) for c in self.calls("PATCH", "external_interview_assessments")]

    def sent_cards(self) -> list[dict]:
        """Every card the bot posted (reply, send, update, delayed update), decoded, in order."""
        cards = []
        for call in self.mock.calls:
            url, body = call.request.url, call.request.body
            if "/im/v1/messages" in url and call.request.method in ("POST", "PATCH"):
                data = json.loads(body)
                cards.append({"via": "reply" if url.endswith("/reply") else call.request.method.lower(),
                              "url": url.removeprefix(DOMAIN), "uuid": data.get("uuid"),
                              "card": json.loads(data["content"])})
            elif "/interactive/v1/card/update" in url:
                data = json.loads(body)
                cards.append({"via": "delayed", "url": url.removeprefix(DOMAIN), "uuid": None, "card": data["card"]})
        return cards


def _ok(request):
    return 200, {"X-Tt-Logid": "LOGOK"}, json.dumps({"code": 0, "msg": "ok", "data": {}})


def _re(path: str):
    return re.compile(re.escape(DOMAIN) + path + r"(\?.*)?$")
