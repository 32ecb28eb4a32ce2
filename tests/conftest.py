"""Fixtures: an app wired to a real database, a mocked Feishu Open API, and a helper that pushes as Feishu does."""

from __future__ import annotations

import copy
import itertools
import json
import os
import threading
from pathlib import Path

import pytest
import responses

from bot.feishu import security
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = Path(__file__).parent / "payloads"
ENCRYPT_KEY = "test key"
TOKEN = "066zT6pS4QCbgj5Do145GfDbbagVerify"
DOMAIN = "https://open.feishu.test"
BOT = "ou_bot0000000000000000000000000000"
ALICE = "ou_alice000000000000000000000000000"
BOB = "ou_bob00000000000000000000000000000"
ADMIN = "ou_admin000000000000000000000000000"
START = 1_795_600_000.0  # 2026-11-25, a fixed "now"


def load_payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def encrypt(payload: dict | bytes, key: str = ENCRYPT_KEY, iv: bytes | None = None) -> bytes:
    """A body as Feishu encrypts it (with the tests' Encrypt Key by default)."""
    return security.encrypt(payload, key, iv)


def sign(timestamp: str, nonce: str, body: bytes, key: str = ENCRYPT_KEY) -> str:
    return security.signature(timestamp, nonce, key, body)


class FakeClock:
    """A clock tests move by hand; `sleep` moves it instead of waiting."""

    def __init__(self, now: float = START):
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)


def database_urls() -> list:
    pg = os.environ.get("TEST_DATABASE_URL")
    reason = "TEST_DATABASE_URL is not set (point it at a throw-away PostgreSQL database to run these)"
    return ["sqlite", pytest.param(pg or "postgresql", marks=pytest.mark.skipif(not pg, reason=reason),
                                   id="postgresql")]


@pytest.fixture(params=database_urls())
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assessbot.db'}"
    from bot.store import make_engine, metadata

    engine = make_engine(request.param)
    metadata.drop_all(engine)  # every test starts from an empty database
    engine.dispose()
    return request.param


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(feishu_app_id="cli_test", feishu_app_secret="app-secret-value", feishu_verification_token=TOKEN,
                  feishu_encrypt_key=ENCRYPT_KEY, feishu_domain=DOMAIN, feishu_bot_open_id=BOT,
                  database_url=database_url, assessbot_runner_threads=0, assessbot_rubric=ROOT / "config/rubric.toml",
                  assessbot_log_level="DEBUG")
    values.update(overrides)
    return Settings(_env_file=None, **values)


class Push:
    """Sends requests to the app as Feishu would: the documented payloads, encrypted and signed."""

    def __init__(self, client, clock: FakeClock):
        self.client = client
        self.clock = clock
        self.ids = itertools.count(1)

    def post(self, payload: dict | bytes, *, encrypted: bool = True, signed: bool = True, headers: dict | None = None):
        if encrypted:
            body = encrypt(payload)
        else:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {}
        if signed:
            ts, nonce = str(int(self.clock())), f"nonce{next(self.ids)}"
            sent = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                    "X-Lark-Signature": sign(ts, nonce, body)}
        sent.update(headers or {})
        return self.client.post("/feishu/events", data=body, headers=sent, content_type="application/json")

    def message_payload(self, text: str, *, chat_type: str = "p2p", sender: str = ALICE, event_id: str | None = None,
                        message_id: str | None = None, mentions: list[dict] | None = None,
                        message_type: str = "text", sender_type: str = "user") -> dict:
        n = next(self.ids)
        payload = copy.deepcopy(load_payload("im_message_receive_v1.json"))
        payload["header"]["token"] = TOKEN
        payload["header"]["event_id"] = event_id or f"ev{n:030d}"
        message = payload["event"]["message"]
        message.update(message_id=message_id or f"om_{n:032d}", chat_type=chat_type, message_type=message_type,
                       chat_id="oc_group0001" if chat_type == "group" else "oc_p2p0001",
                       content=json.dumps({"text": text}, ensure_ascii=False), mentions=mentions or [])
        payload["event"]["sender"]["sender_id"]["open_id"] = sender
        payload["event"]["sender"]["sender_type"] = sender_type
        return payload

    def message(self, text: str, **kwargs):
        return self.post(self.message_payload(text, **kwargs))

    def card_payload(self, value: dict, form_value: dict | None = None, *, operator: str = ALICE,
                     event_id: str | None = None, message_id: str = "om_card0001") -> dict:
        n = next(self.ids)
        payload = copy.deepcopy(load_payload("card_action_trigger.json"))
        payload["header"]["token"] = TOKEN
        payload["header"]["event_id"] = event_id or f"cb{n:030d}"
        payload["event"]["operator"]["open_id"] = operator
        payload["event"]["token"] = f"c-callbacktoken{n:020d}"
        payload["event"]["action"].update(value=value, form_value=form_value or {}, name="submit")
        payload["event"]["context"].update(open_message_id=message_id, open_chat_id="oc_p2p0001")
        return payload

    def card(self, value: dict, form_value: dict | None = None, **kwargs):
        return self.post(self.card_payload(value, form_value, **kwargs))


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


SUCCESS = (200, {"code": 0, "msg": "success", "data": {"external_interview_assessment": {"id": "x"}}})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def feishu_http():
    from bot.feishu import client as feishu

    feishu._cache.drop()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FeishuHttp(mock)
    feishu._cache.drop()


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


# Strings that must never reach a log line: the secrets, tenant tokens, and feedback text the tests type.
NEVER_LOGGED = ("app-secret-value", ENCRYPT_KEY, TOKEN, "t-testtoken", "Bearer ", "c-callbacktoken", "clear thinker",
                "思路清晰", "Asked good questions", "Alice Zhang")


@pytest.fixture
def logs():
    """Everything the app logs during a test (JSON lines, at DEBUG), checked for secrets afterwards."""
    import io
    import logging

    buffer = io.StringIO()
    yield buffer
    text = buffer.getvalue()
    leaked = [s for s in NEVER_LOGGED if s in text]
    assert not leaked, f"logged {leaked}: {text[:2000]}"
    for handler in [h for h in logging.getLogger().handlers if getattr(h, "_assessbot", False)]:
        logging.getLogger().removeHandler(handler)


@pytest.fixture
def app(settings, clock, feishu_http, logs):
    import logging

    from bot import create_app

    app = create_app(settings, clock=clock, start_runner=False)
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_assessbot", False):
            handler.setStream(logs)
    ctx = app.extensions["assessbot"]
    ctx.sleep = clock.sleep
    ctx.runner.rand = lambda low, high: high  # deterministic back-off: the cap of each step
    yield app
    ctx.inline.shutdown(wait=True)
    ctx.store.dispose()


@pytest.fixture
def ctx(app):
    return app.extensions["assessbot"]


@pytest.fixture
def push(app, clock) -> Push:
    return Push(app.test_client(), clock)
