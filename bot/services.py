"""What a command or a job needs, built once per process: settings, rubrics and forms, store, Feishu client, runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.forms.catalogue import Catalogue
from bot.inflight import InFlight
from bot.inline import InlineAnswers
from bot.rubric import Rubric
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.feishu.client import Downloaded
    from bot.feishu.errors import Written


class FeishuApi(Protocol):
    """The calls the bot makes (bot.feishu.client.Feishu; tests may pass a double of the same shape)."""

    def patch_assessment(self, assessment_id: str, body: dict) -> Written: ...
    def create_assessment(self, body: dict) -> Written: ...
    def interview_assessments(self, interview_id: str) -> list[dict]: ...
    def feedback_forms(self) -> list[dict]: ...
    def open_ids(self, emails: list[str], mobiles: list[str]) -> dict[str, str]: ...
    def reply_card(self, message_id: str, card: dict, uuid: str) -> Written: ...
    def send_card(self, receive_id: str, card: dict, uuid: str, id_type: str = "open_id") -> Written: ...
    def update_card(self, message_id: str, card: dict) -> Written: ...
    def delayed_update(self, token: str, card: dict) -> Written: ...
    def user_name(self, open_id: str) -> str | None: ...
    def message_file(self, message_id: str, file_key: str, limit: int) -> Downloaded: ...
    def message_content(self, message_id: str) -> tuple[str, dict]: ...
    def wiki_object(self, node_token: str) -> tuple[str, str]: ...
    def table_fields(self, app_token: str, table_id: str) -> list[dict]: ...
    def table_records(self, app_token: str, table_id: str, view_id: str | None = None,
                      page_token: str | None = None) -> tuple[list[dict], str | None]: ...
    def update_record(self, app_token: str, table_id: str, record_id: str, fields: dict) -> Written: ...
    def subscribe_table(self, app_token: str) -> Written: ...


class JobRunner(Protocol):
    """What requests ask of the job runner (bot.jobs.runner.Runner): look for new jobs now, or run one now."""

    threads: int

    def wake(self) -> None: ...
    def run_once(self, owner: str | None = None, job_id: int | None = None) -> bool: ...
    def start(self) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...


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
    runner: JobRunner | None = None
    inline: InlineAnswers = field(default_factory=InlineAnswers)  # card callbacks waiting for their job's card
    in_flight: InFlight = field(default_factory=InFlight)  # requests being answered, which jobs let go first
    forms: Catalogue = None  # type: ignore[assignment]  # which rubric each assessment uses (local rubric only: none)

    def __post_init__(self) -> None:
        if self.forms is None:
            self.forms = Catalogue(self.store, self.rubric)
