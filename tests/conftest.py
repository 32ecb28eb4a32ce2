"""Fixtures only: an app wired to a real database, a mocked Feishu Open API, and a helper that pushes as Feishu
does. The helpers themselves live in tests/support/."""

from __future__ import annotations

import pytest
import responses

from bot.settings import Settings
from tests.support.clock import FakeClock
from tests.support.databases import database_urls, drop_everything
from tests.support.feishu_http import FeishuHttp
from tests.support.ids import ENCRYPT_KEY, TOKEN, make_settings
from tests.support.push import Push

pytest_plugins = ("tests.support.skips", "tests.support.processguard")  # why skipped; processes: system only


@pytest.fixture(params=database_urls())
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assessbot.db'}"
    from bot.store import make_engine

    engine = make_engine(request.param)
    drop_everything(engine)  # every test starts from an empty database
    engine.dispose()
    return request.param


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


# Strings that must never reach a log line: the secrets, tenant tokens, and feedback text the tests type; the
# intake token and a followed Bitable's base token (tests/test_intake_api.py, tests/test_schedule_bitable.py); raw
# cells of the schedule files sent in chat (tests/test_schedule_chat.py: a start time as the file writes it, the
# round and the position) and of the hostile files the fuzz tests send.
NEVER_LOGGED = ("app-secret-value", ENCRYPT_KEY, TOKEN, "t-testtoken", "Bearer ", "c-callbacktoken", "clear thinker",
                "思路清晰", "Asked good questions", "Alice Zhang", "intake-token-0123456789abcdef",
                "bascnAbCdEfGhIjKlMnOpQrStUv", "2026-12-07 10:00", "技术一面", "后端工程师", "=HYPERLINK(")


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
