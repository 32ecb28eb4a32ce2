"""What a command or a job needs, built once per process: settings, rubric, store, Feishu client, runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.jobs.answers import Answers
from bot.jobs.runner import InFlight
from bot.rubric import Rubric
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.feishu.client import Written
    from bot.jobs.runner import Runner


class FeishuApi(Protocol):
    """The calls the bot makes (bot.feishu.client.Feishu; tests may pass a double of the same shape)."""

    def patch_assessment(self, assessment_id: str, body: dict) -> Written: ...
    def create_assessment(self, body: dict) -> Written: ...
    def interview_assessments(self, interview_id: str) -> list[dict]: ...
    def open_ids(self, emails: list[str], mobiles: list[str]) -> dict[str, str]: ...
    def reply_card(self, message_id: str, card: dict, uuid: str) -> Written: ...
    def send_card(self, receive_id: str, card: dict, uuid: str, id_type: str = "open_id") -> Written: ...
    def update_card(self, message_id: str, card: dict) -> Written: ...
    def delayed_update(self, token: str, card: dict) -> Written: ...
    def user_name(self, open_id: str) -> str | None: ...


@dataclass
class Context:
    """One per process; command units and job executors get it."""

    settings: Settings
    rubric: Rubric
    store: Store
    feishu: FeishuApi
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    bot_open_id: str | None = None
    runner: Runner | None = None
    answers: Answers = field(default_factory=Answers)  # card callbacks waiting for their job's card
    in_flight: InFlight = field(default_factory=InFlight)  # requests being answered, which jobs let go first
    inline: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "assessbot-inline"))
