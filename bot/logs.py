"""Structured JSON logs, one object per line, with secrets and tokens scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_TOKENS = re.compile(r"(Bearer\s+\S+|\b[tuc]-[A-Za-z0-9_\-]{8,})")


class Scrubber(logging.Filter):
    """Removes configured secrets and anything shaped like a Feishu token from messages and fields."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return _TOKENS.sub("[token]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.clean(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; user text can never start a new line (CWE-117)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
                 "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(level: str = "INFO", secrets: Iterable[str] = (), stream=None) -> logging.Handler:  # type: ignore[no-untyped-def]
    """Send every logger (lark-oapi's included) through one scrubbing JSON handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Scrubber(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_assessbot", False)]:
        root.removeHandler(old)
    handler._assessbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    lark = logging.getLogger("Lark")
    lark.handlers = []
    lark.propagate = True
    return handler
