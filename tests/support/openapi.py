"""The Open API in the tests' own process: the sandbox's backend (bot/sandbox/openapi/backend.py) behind a
`responses` front door, and what tests ask of it (what the bot sent, as the backend logged it)."""

from __future__ import annotations

import itertools
import json
import re
from urllib.parse import urlencode, urlsplit

import responses
from requests.exceptions import ConnectionError as RequestsConnectionError

from bot.sandbox.openapi.backend import FakeOpenAPI
from bot.sandbox.openapi.forms import Forms
from bot.sandbox.openapi.wire import Request
from tests.support.ids import APP_ID, APP_SECRET, BOT, DIRECTORY, DOMAIN

_VIA = {"reply": "reply", "send": "post", "message_patch": "patch", "card_update": "delayed"}


def mount(api: FakeOpenAPI, mock: responses.RequestsMock, domain: str = DOMAIN) -> None:
    """Answer every request to `domain` from `api`; a dropped connection is a ConnectionError, as over a socket."""

    def answer(request):  # type: ignore[no-untyped-def]
        url = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        got = api.handle(Request.of(request.method, url.path, url.query, dict(request.headers), body))
        if got.drop:
            raise RequestsConnectionError("the connection was closed before an answer came")
        return got.status, {**got.headers, "Content-Type": got.content_type}, got.body

    for method in (responses.GET, responses.POST, responses.PATCH, responses.PUT, responses.DELETE):
        mock.add_callback(method, re.compile(re.escape(domain) + r"/.*"), answer, content_type=None)


class Feishu:
    """The tests' Feishu: `api` is the one backend (its faults, state and log); the rest reads that log."""

    def __init__(self, mock: responses.RequestsMock, **options: object):
        ids = itertools.count(1)
        options = {"app_id": APP_ID, "app_secret": APP_SECRET, "bot_open_id": BOT, "users": dict(DIRECTORY),
                   "message_ids": lambda: f"om_reply{next(ids):04d}", **options}
        self.mock, self.api = mock, FakeOpenAPI(**options)  # type: ignore[arg-type]
        self.expect_refused = False  # a test that makes Feishu refuse something on purpose says so
        mount(self.api, mock)

    def calls(self, method: str, fragment: str) -> list:
        """The requests as the bot sent them (responses' record), by method and a piece of the URL."""
        return [c for c in self.mock.calls if c.request.method == method and fragment in c.request.url]

    def bodies(self, endpoint: str) -> list:
        """The JSON bodies of every request to one endpoint class (the backend's names), in order."""
        return [c["body"] for c in self.api.calls(endpoint)]

    def patches(self) -> list[dict]:
        """Every assessment PATCH body, answered or not."""
        return self.bodies("patch")

    def lookups(self) -> list[dict]:
        """The bodies of every batch_get_id call."""
        return self.bodies("user_ids")

    def downloads(self) -> list[str]:
        """The path and query of every file download."""
        return [_url(c) for c in self.api.calls("resource")]

    def sent_cards(self) -> list[dict]:
        """Every message the bot posted, replied, updated or updated late, decoded, in order."""
        sent = []
        for call in self.api.calls():
            if call["endpoint"] in _VIA and isinstance(call["body"], dict):
                body = call["body"]
                card = body.get("card") if call["endpoint"] == "card_update" else json.loads(body.get("content", "{}"))
                sent.append({"via": _VIA[call["endpoint"]], "url": _url(call), "uuid": body.get("uuid"), "card": card})
        return sent

    def refused(self) -> list[dict]:
        """Calls Feishu refused that no fault asked for, for what the bot sent rather than who is in the directory
        (41050: a person outside the app's contact range, which the bot takes in its stride)."""
        return [c for c in self.api.calls() if c["code"] not in (0, None, 41050) and not c["faults"]]

    def people(self, known: dict[str, str]) -> None:
        """batch_get_id finds these (email or mobile -> open_id)."""
        self.api.add_contacts(known)

    def files(self, held: dict[tuple[str, str], tuple[bytes, str]], *, sender: str = "",
              chat_id: str = "oc_p2p0001") -> None:
        """Files users sent: (message_id, file_key) -> (bytes, file name)."""
        for (message_id, file_key), (data, name) in held.items():
            self.api.record_user_file(message_id, chat_id, sender, name, data, file_key=file_key)


class Hire:
    """The stand-in's feedback forms as the bot's form sync reads them, without HTTP (the list call's items)."""

    def __init__(self) -> None:
        self.forms = Forms()

    def feedback_forms(self) -> list[dict]:
        return self.forms.listed({"page_size": "100"}, [])["items"]


def _url(call: dict) -> str:
    return call["path"] + (f"?{urlencode(call['query'])}" if call["query"] else "")
