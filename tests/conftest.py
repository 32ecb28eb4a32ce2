"""Fixtures only: an app wired to a real database, a mocked Feishu Open API, and a helper that pushes as Feishu
does. The helpers themselves live in tests/support/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import responses

from bot.settings import Settings
from tests.support.clock import FakeClock
from tests.support.databases import database_urls, drop_everything
from tests.support.ids import APP_SECRET, ENCRYPT_KEY, TOKEN, make_settings
from tests.support.openapi import Feishu
from tests.support.push import Push

pytest_plugins = ("tests.support.skips", "tests.support.processguard")  # why skipped; processes: system only
SYSTEM = Path(__file__).parent / "system"  # every test that starts a process, and only those


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/system/ are `system` by their folder; the marker is never written by hand."""
    for item in items:
        inside = item.path.is_relative_to(SYSTEM)
        if item.get_closest_marker("system") is not None and not inside:
            raise pytest.UsageError(f"{item.nodeid} is marked system outside tests/system/: move it there")
        if inside:
            item.add_marker(pytest.mark.system)


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
def store(database_url, clock):
    """A database with the schema, for tests below the app."""
    from bot.store import Store

    store = Store(database_url, clock)
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
def bare_environment(monkeypatch, tmp_path):
    """No settings but those a test gives (DATABASE_URL an SQLite file in tmp_path); no .env; no cached token."""
    import os

    from bot.feishu.connection import TOKENS

    for name in list(os.environ):
        if name.startswith(("FEISHU_", "ASSESSBOT_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'doctor.db'}")
    TOKENS.forget()
    yield
    TOKENS.forget()


@pytest.fixture
def env(monkeypatch, database_url, tmp_path):
    """The command line's settings in the environment (as an operator's shell has them); the working directory."""
    from tests.support.imports import import_env

    import_env(monkeypatch, database_url)
    return tmp_path


@pytest.fixture
def feishu():
    """The one Open API stand-in, in this process; a test that leaves a call it refused unexplained fails."""
    from bot.feishu.connection import TOKENS

    TOKENS.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = Feishu(mock)
        yield fake
    TOKENS.forget()
    assert fake.expect_refused or not fake.refused(), f"Feishu refused: {fake.refused()}"


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


# Strings that must never reach a log line: the secrets, and feedback text the tests type; the intake token and a
# followed Bitable's base token (scenarios/test_intake_api.py, scenarios/test_schedule_bitable.py); raw cells of the
# schedule files sent in chat (scenarios/test_schedule_chat.py: a start time as the file writes it, the round and
# the position) and of the hostile files the fuzz tests send. The tokens the stand-in hands out are matched by shape.
NEVER_LOGGED = (APP_SECRET, ENCRYPT_KEY, TOKEN, "Bearer ", "clear thinker",
                "思路清晰", "Asked good questions", "Alice Zhang", "intake-token-0123456789abcdef",
                "bascnAbCdEfGhIjKlMnOpQrStUv", "2026-12-07 10:00", "技术一面", "后端工程师", "=HYPERLINK(")


TOKENS = r"\b[tc]-[0-9a-f]{32,40}\b"  # the tenant and callback tokens the stand-in hands out


@pytest.fixture
def logs():
    """Everything the app logs during a test (JSON lines, at DEBUG), checked for secrets afterwards."""
    import io
    import logging

    buffer = io.StringIO()
    yield buffer
    text = buffer.getvalue()
    leaked = [s for s in NEVER_LOGGED if s in text] + re.findall(TOKENS, text)
    assert not leaked, f"logged {leaked}: {text[:2000]}"
    for handler in [h for h in logging.getLogger().handlers if getattr(h, "_assessbot", False)]:
        logging.getLogger().removeHandler(handler)


@pytest.fixture
def app(settings, clock, feishu, logs):
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
def push(app, clock, feishu) -> Push:
    return Push(app.test_client(), clock, feishu.api)
