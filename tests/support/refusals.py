"""Make the mocked Open API refuse message deliveries the way Feishu does (HTTP 400, an IM error code)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import responses

MESSAGE_PATHS = {"reply": r"/open-apis/im/v1/messages/[^/]+/reply", "send": r"/open-apis/im/v1/messages"}


def refuse(feishu_http, domain: str, via: str, code: int, msg: str, *,
           when: Callable[[dict], bool] = lambda body: True, times: int = 1) -> list[dict]:
    """The next `times` messages sent `via` ("reply" or "send") whose body `when` picks are refused with `code`;
    others are answered as before. Returns the refused bodies, decoded, as they happen."""
    refused: list[dict] = []
    url = re.compile(re.escape(domain) + MESSAGE_PATHS[via] + r"(\?.*)?$")

    def answer(request):
        body = json.loads(request.body)
        if len(refused) < times and when(body):
            refused.append(body)
            return 400, {"X-Tt-Logid": f"LOGREFUSED{len(refused)}"}, json.dumps({"code": code, "msg": msg})
        return feishu_http._message(request)

    feishu_http.mock.replace(responses.CallbackResponse(responses.POST, url, callback=answer))
    return refused


def is_card(body: dict) -> bool:
    return body.get("msg_type") == "interactive"
