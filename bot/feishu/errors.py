"""What a Feishu call answers when it fails or succeeds, without the SDK: job code and the command line read these
without paying for lark_oapi's import (bot/feishu/client.py makes the calls)."""

from __future__ import annotations

from dataclasses import dataclass

# The codes Feishu uses for a tenant token that is missing, expired or revoked.
TOKEN_INVALID = frozenset({99991661, 99991663, 99991664, 99991665, 99991671})
RATE_LIMITED = 99991400


class FeishuError(Exception):
    """Feishu answered with an error, or could not be reached (code None)."""

    def __init__(self, code: int | None, msg: str, log_id: str | None = None, status: int | None = None,
                 reset: float | None = None, credentials: bool = False):
        super().__init__(f"{code}: {msg}")
        self.credentials = credentials  # the token endpoint refused the app's id and secret
        self.code = code
        self.msg = msg
        self.log_id = log_id
        self.status = status
        self.reset = reset  # seconds, from x-ogw-ratelimit-reset

    @property
    def token_invalid(self) -> bool:
        return self.code in TOKEN_INVALID

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.code == RATE_LIMITED

    def log_fields(self) -> dict[str, object]:
        """What a log line says of this failure: Feishu's code, HTTP status and log id when it answered, and
        always the reason (an unreachable Feishu has no code, so the reason is all there is)."""
        fields: dict[str, object] = {"reason": self.msg}
        for name in ("code", "status", "log_id"):
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        return fields


class TooLarge(Exception):
    """A download was longer than the bot reads (the bytes beyond were never read)."""

    def __init__(self, limit: int):
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Written:
    """A successful call: Feishu's log id and what it said back."""

    log_id: str | None
    data: dict
    status: int | None = None  # the HTTP status
