"""What a handler needs, built once per process: settings, rubric, store, Feishu client, job runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.rubric import Rubric
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.feishu.client import Written
    from bot.jobs.runner import Runner


class FeishuApi(Protocol):
    """The calls the bot makes (bot.feishu.Feishu; tests may pass a double of the same shape)."""

    def patch_assessment(self, assessment_id: str, body: dict) -> Written: ...
    def reply_card(self, message_id: str, card: dict, uuid: str) -> Written: ...
    def send_card(self, receive_id: str, card: dict, uuid: str, id_type: str = "open_id") -> Written: ...
    def update_card(self, message_id: str, card: dict) -> Written: ...
    def delayed_update(self, token: str, card: dict) -> Written: ...
    def user_name(self, open_id: str) -> str | None: ...


class Slot:
    """Where a card callback waits for its job's card; whatever is offered after the deadline goes by API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.responded = threading.Event()  # set once the callback's HTTP answer has been sent
        self._closed = False
        self.card: dict | None = None
        self.toast: dict | None = None

    def offer(self, card: dict, toast: dict) -> bool:
        """Hand the final card to the waiting request; False if it has already answered."""
        with self._lock:
            if self._closed:
                return False
            self.card, self.toast = card, toast
            self.ready.set()
            return True

    def close(self, timeout: float) -> tuple[dict | None, dict | None]:
        """Wait up to `timeout` for a card, then stop accepting one."""
        self.ready.wait(timeout)
        with self._lock:
            self._closed = True
            return self.card, self.toast


@dataclass
class Context:
    """One per process; handlers and executors get it."""

    settings: Settings
    rubric: Rubric
    store: Store
    feishu: FeishuApi
    clock: Callable[[], float] = time.time
    bot_open_id: str | None = None
    runner: Runner | None = None
    slots: dict[int, Slot] = field(default_factory=dict)
    inline: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "assessbot-inline"))
