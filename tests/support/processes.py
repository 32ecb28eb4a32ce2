"""Test-only process helpers: the bot's settings for process tests, `assessbot worker`, pushes with the test keys.

The harness itself (starting, waiting for, stopping process groups; gunicorn) is bot.sandbox.processes; the local Open
API in its own process is bot.sandbox.openapi.process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.sandbox import processes, push
from tests.support.ids import BOT, ENCRYPT_KEY, SANDBOX_APP_ID, SANDBOX_APP_SECRET, TOKEN

ASSESSBOT = str(Path(sys.executable).with_name("assessbot"))  # the installed command line


def bot_env(openapi_url: str, database_url: str, **extra: str | int) -> dict[str, str]:
    """The environment of a bot process: the test keys, the local Open API and the given database."""
    return processes.bot_env(openapi_url=openapi_url, database_url=database_url, app_id=SANDBOX_APP_ID,
                             app_secret=SANDBOX_APP_SECRET, encrypt_key=ENCRYPT_KEY, token=TOKEN,
                             FEISHU_BOT_OPEN_ID=BOT, ASSESSBOT_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
                             **extra)


class Worker:
    """`assessbot worker`: the job runner in a process of its own."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "worker"):
        self.proc = processes.start([sys.executable, "-m", "bot.cli", "worker"], workdir / f"{name}.log", env=env,
                                    cwd=workdir)

    def stop(self) -> None:
        processes.stop_group(self.proc)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def message(text: str, *, message_id: str, event_id: str, sender: str) -> dict:
    """An `im.message.receive_v1` push of a p2p text message to the bot."""
    return push.message_event(text, token=TOKEN, sender=sender, chat_id="oc_" + sender[3:], message_id=message_id,
                              event_id=event_id, app_id=SANDBOX_APP_ID)


def deliver(url: str, payload: dict, timeout: float = 10.0) -> tuple[int | None, float]:
    """One delivery as Feishu makes it, with the test keys: the HTTP status (None: no answer) and seconds."""
    return push.deliver(url, payload, ENCRYPT_KEY, timeout)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of `times` inside any half-open interval of `window` seconds."""
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best
