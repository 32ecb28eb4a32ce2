"""The sandbox over the long connection: the console's chat reaches the bot through the local gateway."""

from __future__ import annotations

import pytest

from bot.sandbox.console.chat import Console, Options
from tests.support.ids import AID
from tests.support.longconn import ALICE, LongConnStack


@pytest.fixture
def stack(database_url):
    running = LongConnStack(database_url)
    yield running
    running.close()


def feed(*typed: str):
    given = iter(typed)

    def read(prompt: str) -> str:
        try:
            return next(given)
        except StopIteration:
            raise EOFError from None

    return read


def test_the_console_chats_over_the_long_connection_typed_commands_and_forms_alike(stack):
    """It pushes typed lines and form submissions through the gateway and shows the answers as over a webhook."""
    out: list[str] = []
    options = Options(bot="http://127.0.0.1:9", openapi=stack.openapi.url, encrypt_key="", token="", user=ALICE,
                      name="Alice Zhang", longconn=True)
    typed = (f"/assess {AID} pass coding=4", f"/assess {AID}", ":fill",
             "1", "5", "3", "", "P6", "1,3", "notes", "solid", "", "", ":quit")
    assert Console(options, read=feed(*typed), write=out.append, watch=False, wait=10.0, quiet=0.3).run() == 0
    printed = "\n".join(out)
    assert ("assessbot replied:\n┌─ Assessment updated · 6930815272790114324\n│ Conclusion: Pass\n"
            "│ Coding: 4 / 5") in printed
    assert "✓ Assessment saved\nThe card now reads:\n┌─ Assessment updated" in printed
    held = stack.api.assessments()[AID]
    assert (held["conclusion"], held["content"], held["username"]) == (1, "solid", "Alice Zhang")
    assert stack.gateway.handshakes == 1


