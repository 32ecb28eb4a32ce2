"""The bot in long-connection mode in this process: the local Open API with its gateway, the app, the elector."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bot import create_app, stop_background
from bot.feishu.connection import TOKENS
from bot.sandbox.console.api import private_chat
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi.longconn import LongConnServer
from bot.sandbox.push import card_action, message_event
from bot.settings import Settings
from tests.support.ids import ALICE, BOT, ROOT, SANDBOX_APP_ID, SANDBOX_APP_SECRET
from tests.support.stack import CALLBACK_BUDGET
from tests.support.waiting import wait_until

CHAT = private_chat(ALICE)


def longconn_settings(database_url: str, domain: str, **overrides: Any) -> Settings:
    """Long-connection mode with no Encrypt Key or Verification Token, pointed at a local Open API."""
    values: dict[str, Any] = dict(feishu_app_id=SANDBOX_APP_ID, feishu_app_secret=SANDBOX_APP_SECRET,
                                  feishu_event_mode="longconn", feishu_domain=domain, feishu_bot_open_id=BOT,
                                  database_url=database_url,
                                  assessbot_runner_threads=2, assessbot_rubric=ROOT / "config/rubric.toml",
                                  assessbot_log_level="WARNING", assessbot_forms_sync_minutes=0,
                                  assessbot_callback_budget=CALLBACK_BUDGET)
    values.update(overrides)
    return Settings(_env_file=None, **values)




class LongConnStack:
    """Local Open API + gateway on 127.0.0.1, and the bot connected to it through lark-oapi's real ws client."""

    def __init__(self, database_url: str, clock: Callable[[], float] = time.time, **overrides: Any):
        TOKENS.forget()  # lark-oapi caches tenant tokens process-wide
        self.gateway = LongConnServer(app_id=SANDBOX_APP_ID, app_secret=SANDBOX_APP_SECRET).start(http=False)
        self.openapi = serve(api=FakeOpenAPI(users={ALICE: "Alice Zhang"}, longconn=self.gateway))
        self.api = self.openapi.api
        self.settings = longconn_settings(database_url, self.openapi.url, **overrides)
        self.app = create_app(self.settings, clock=clock, start_runner=True)
        self.ctx = self.app.extensions["assessbot"]
        self.stopped = False
        wait_until(lambda: self.gateway.connections == 1, 15.0)

    @property
    def elector(self):  # type: ignore[no-untyped-def]
        return self.app.extensions.get("assessbot_longconn")

    def say(self, text: str, message_id: str, event_id: str | None = None, timeout: float = 5.0) -> dict:
        """Alice types `text`; pushed over the connection (waiting at most `timeout` for it); the bot's answer."""
        self.api.record_user_message(message_id, CHAT, ALICE, text)
        return self.gateway.push(message_event(text, token="", sender=ALICE, chat_id=CHAT, message_id=message_id,
                                               event_id=event_id), timeout=timeout)

    def click(self, message_id: str, value: dict, form: dict | None = None, event_id: str | None = None,
              timeout: float = 5.0) -> dict:
        """Alice presses a button (or submits a form) on a card; the callback's answer."""
        token = self.api.issue_callback_token(message_id)
        return self.gateway.push(card_action(value, form, token="", operator=ALICE, message_id=message_id,
                                             chat_id=CHAT, callback_token=token, event_id=event_id), timeout)

    def bot_messages(self) -> list[dict]:
        return [m for m in self.api.messages(CHAT) if m["sender"] == "app"]

    def stop_bot(self, timeout: float = 5.0) -> float:
        """Stop the bot's background work as gunicorn's worker_exit does; the seconds it took."""
        started = time.monotonic()
        if not self.stopped:
            stop_background(self.app, timeout)
            self.stopped = True
        return time.monotonic() - started

    def close(self) -> None:
        self.stop_bot()
        self.ctx.inline.shutdown(wait=True)
        self.ctx.store.dispose()
        self.openapi.stop()
        self.gateway.stop()
        TOKENS.forget()
        for handler in [h for h in logging.getLogger().handlers if getattr(h, "_assessbot", False)]:
            logging.getLogger().removeHandler(handler)


def threads_named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]
