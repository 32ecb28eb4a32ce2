"""Structured logs, one record per line (text on a terminal, JSON otherwise), with secrets and tokens scrubbed.

gunicorn's own logs go through the same handler (`GunicornLogger`, named in config/gunicorn.conf.py), so a
deployment writes one format to stderr (gunicorn's log-file options are not used); its access log is off
unless ASSESSBOT_ACCESS_LOG is set, and then each request is one `request` record with method, path, status,
duration and size.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from datetime import timedelta

from gunicorn import glogging

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_TOKENS = re.compile(r"(Bearer\s+\S+|\b[tuc]-[A-Za-z0-9_\-]{8,})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_BARE = re.compile(r"[^\s\"'=\x00-\x1f\x7f\x85\u2028\u2029]+")
FORMATS = ("auto", "json", "text")


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


class LostConnections(logging.Filter):
    """SQLAlchemy's pool logs a connection the server dropped while it was checked out, found when the pool rolls
    it back on its return, as an error with a traceback; the pool then discards it and nothing is lost (the request
    that used it was answered or refused already). Said as one warning with the driver's reason instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        lost = any(kind.__name__ == "OperationalError" for kind in type(exc).__mro__)  # AdminShutdown is one too
        if lost and record.getMessage().startswith("Exception during reset"):
            record.msg, record.args = "database connection lost while in use; the pool dropped it", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            record.exc_info = record.exc_text = None
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; user text can never start a new line (CWE-117)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _timestamp(record), "level": record.levelname, "logger": record.name,
                 "msg": record.getMessage(), **_fields(record)}
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value …` for people reading a terminal; user text stays on its line."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {_escaped(record.getMessage())}"
        fields = " ".join(f"{key}={_value(value)}" for key, value in _fields(record).items())
        if fields:
            line += "  " + fields
        if record.exc_text:  # indented, so no line of a traceback can pass for a record of its own
            line += "".join(f"\n    | {_escaped(part)}" for part in record.exc_text.splitlines())
        return line


def _escaped(text: str) -> str:
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def _value(value: object) -> str:
    if isinstance(value, str) and _BARE.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def setup(level: str = "INFO", secrets: Iterable[str] = (), stream=None,  # type: ignore[no-untyped-def]
          fmt: str | None = None) -> logging.Handler:
    """Send every logger (lark-oapi's and gunicorn's included) through one scrubbing handler.

    `fmt` is auto (text when the stream is a terminal, JSON otherwise), json or text; None means as configured
    (ASSESSBOT_LOG_FORMAT, from the environment or .env).
    """
    stream = stream or sys.stderr
    fmt = fmt or _configured_format()
    if fmt == "auto":
        fmt = "text" if _is_terminal(stream) else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    handler.addFilter(LostConnections())
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
    # Alembic's set-up chatter at INFO; the store logs a schema upgrade itself, once.
    logging.getLogger("alembic").setLevel(max(level if isinstance(level, int) else logging.getLevelName(level),
                                              logging.WARNING))
    return handler


def _configured_format() -> str:
    from bot import settings

    try:
        return settings.load_server().assessbot_log_format
    except settings.SettingsError:  # the app's own settings check names the bad value and stops
        return "auto"


def _is_terminal(stream) -> bool:  # type: ignore[no-untyped-def]
    """Whether a person is likely reading the stream as it is written."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs through the bot's handler: one format, the same scrubbing."""

    def setup(self, cfg) -> None:  # type: ignore[no-untyped-def]
        """Route gunicorn's loggers to the root handler (set up here, and again with the app's settings)."""
        from bot import settings

        self.cfg = cfg
        try:
            server, secrets = settings.load_server(), settings.credentials().secret_values()
            level, fmt = server.assessbot_log_level, server.assessbot_log_format
        except settings.SettingsError:  # the app's own settings check names the bad value and stops
            level, fmt, secrets = "INFO", "auto", ()
        setup(level, secrets, fmt=fmt)
        for log in (self.error_log, self.access_log):
            log.handlers = []
            log.propagate = True
        self.error_log.setLevel(logging.NOTSET)
        self.access_log.setLevel(logging.INFO)

    @property
    def access_log_enabled(self) -> bool:
        """On only when asked for (ASSESSBOT_ACCESS_LOG=1, which config/gunicorn.conf.py turns into accesslog)."""
        return self.cfg.accesslog is not None

    def access(self, resp, req, environ: dict, request_time: timedelta) -> None:  # type: ignore[no-untyped-def]
        """One `request` record: method, path (no query string), status, milliseconds, bytes sent."""
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        self.access_log.info("request", extra={
            "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO"),
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 1), "bytes": getattr(resp, "sent", None)})
