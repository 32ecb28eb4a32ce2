"""The doctor's report (✓ verified fine, ✗ verified wrong, · to check by hand), the scopes it names, and how it
quotes Feishu's answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.feishu.errors import FeishuError

CREDENTIALS = ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_VERIFICATION_TOKEN", "FEISHU_ENCRYPT_KEY")
PERMISSIONS = (
    ("hire:external_application", "update external interview assessments"),
    ("im:message:send_as_bot", "reply and send cards"),
    ("im:message.p2p_msg:readonly", "read messages people send the bot"),
    ("im:message.group_at_msg:readonly", "read group messages that @ the bot"),
)
OPTIONAL_PERMISSION = ("contact:user.base:readonly", "prefill the interviewer's name in the form")
SCHEDULE_PERMISSION = ("contact:user.id:readonly", "name interviewers and recruiters by email or mobile in a schedule")
FILE_PERMISSION = ("im:message:readonly", "download schedule files sent to the bot in chat")
TABLE_PERMISSIONS = (("bitable:app:readonly", "read a followed Bitable (or base:record:retrieve and base:field:read)"),
                     ("bitable:app", "write each row's state into its status column, and its record-changed events"))
NO_SCOPE = 99991672  # Feishu's "Access denied. One of the following scopes is required"
CHALLENGE_BUDGET = 1.0  # Feishu gives a request URL one second to echo the challenge


@dataclass
class Report:
    """The printed lines, and whether anything verified was wrong."""

    out: Callable[[str], None] = print
    failures: int = 0
    facts: dict[str, bool | None] = field(default_factory=dict)  # what the checklist can reuse

    def section(self, title: str) -> None:
        self.out("")
        self.out(title)

    def good(self, text: str) -> None:
        self.out(f"  ✓ {text}")

    def bad(self, text: str) -> None:
        self.failures += 1
        self.out(f"  ✗ {text}")

    def unknown(self, text: str) -> None:
        self.out(f"  · {text}")

    def item(self, verdict: bool | None, text: str) -> None:
        """A checklist line; a ✗ here repeats a problem already counted above."""
        self.out(f"  {'✓' if verdict else '·' if verdict is None else '✗'} {text}")


def failure(exc: FeishuError) -> str:
    """Feishu's code and words, or why it could not be asked (no code then)."""
    return f"code {exc.code} ({said(exc.msg)})" if exc.code is not None else exc.msg


def said(msg: str) -> str:
    return msg.split(", msg: ")[-1] if ", msg: " in msg else msg


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
