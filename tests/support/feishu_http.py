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

    def lookups(self) -> list[dict]:
        """The bodies of every batch_get_id call."""
        return [json.loads(c.request.body) for c in self.calls("POST", "/contact/v3/users/batch_get_id")]

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
    import re

    return re.compile(re.escape(DOMAIN) + path + r"(\?.*)?$")


def _ok(request):
    return 200, {"X-Tt-Logid": "LOGOK"}, json.dumps({"code": 0, "msg": "ok", "data": {}})


def _re(path: str):
    return re.compile(re.escape(DOMAIN) + path + r"(\?.*)?$")
