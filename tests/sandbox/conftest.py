"""Fixtures only: the sandbox Open API served over loopback HTTP, and the bot's own client pointed at it."""

from __future__ import annotations

import pytest

from tests.support.ids import SANDBOX_APP_ID, SANDBOX_APP_SECRET


@pytest.fixture
def fake():
    """The stand-in to serve (a test module overrides it to start from another state)."""
    from bot.sandbox.openapi import FakeOpenAPI

    return FakeOpenAPI()


@pytest.fixture
def api(fake):
    """(the stand-in, the bot's Feishu client talking to it over HTTP); no token cached before or after."""
    from bot.feishu import client
    from bot.feishu.connection import TOKENS
    from bot.sandbox.openapi import serve

    TOKENS.forget()  # a fresh sandbox knows none of the tokens another one handed out
    with serve(api=fake) as running:
        yield fake, client.Feishu(SANDBOX_APP_ID, SANDBOX_APP_SECRET, running.url, timeout=5)
    TOKENS.forget()
