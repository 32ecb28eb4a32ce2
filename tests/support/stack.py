"""The local Open API and the bot, each on its own loopback port, the bot calling out through the real lark-oapi."""

from __future__ import annotations

import logging
import threading

import requests
from werkzeug.serving import make_server

from bot import create_app
from bot.feishu.connection import TOKENS
from bot.sandbox.console.api import private_chat
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi.server import _QuietHandler
from bot.sandbox.push import message_event, sealed
from tests.support.ids import ALICE, ENCRYPT_KEY, SANDBOX_APP_ID, SANDBOX_APP_SECRET, TOKEN, make_settings
from tests.support.waiting import wait_until

CHAT = private_chat(ALICE)
# The most a click's answer may wait for its write (Feishu's 3 s, less the way there and back): a test that expects
# the write within the answer then fails only when this machine stalls for that long, not for a shorter pause.
CALLBACK_BUDGET = 2.8


class Stack:
    """The local Open API and the bot, each on its own 127.0.0.1 port, the bot calling out through lark-oapi."""

    def __init__(self, database_url: str, **overrides: object):
        TOKENS.forget()  # lark-oapi caches tenant tokens process-wide
        self.openapi = serve(api=FakeOpenAPI(users={ALICE: "Alice Zhang"}))
        self.api = self.openapi.api
        overrides.setdefault("assessbot_forms_sync_minutes", 0)  # no forms read unless a test asks (they call too)
        overrides.setdefault("assessbot_callback_budget", CALLBACK_BUDGET)
        settings = make_settings(database_url, feishu_domain=self.openapi.url, feishu_app_id=SANDBOX_APP_ID,
                                 feishu_app_secret=SANDBOX_APP_SECRET, assessbot_runner_threads=2,
                                 assessbot_log_level="WARNING", **overrides)
        self.app = create_app(settings, start_runner=True)
        self.ctx = self.app.extensions["assessbot"]
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def push(self, payload: dict) -> requests.Response:
        """POST a push to the bot as Feishu does: encrypted and signed."""
        body, headers = sealed(payload, ENCRYPT_KEY)
        return requests.post(f"{self.url}/feishu/events", data=body, headers=headers, timeout=10)

    def say(self, text: str, message_id: str) -> requests.Response:
        """Alice types `text` in her private chat with the bot."""
        self.api.record_user_message(message_id, CHAT, ALICE, text)
        return self.push(message_event(text, token=TOKEN, sender=ALICE, chat_id=CHAT, message_id=message_id))

    def bot_messages(self) -> list[dict]:
        return [m for m in self.api.messages(CHAT) if m["sender"] == "app"]

    def reply_to(self, message_id: str) -> dict:
        """The bot's newest reply to `message_id`, once there is one (not whatever else it sent meanwhile, such
        as a reminder that came due)."""
        return wait_until(lambda: [m for m in self.bot_messages() if m.get("parent_id") == message_id])[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.ctx.runner.stop()
        self.ctx.inline.shutdown(wait=True)
        self.ctx.store.dispose()
        self.openapi.stop()
        TOKENS.forget()
        for handler in [h for h in logging.getLogger().handlers if getattr(h, "_assessbot", False)]:
            logging.getLogger().removeHandler(handler)
