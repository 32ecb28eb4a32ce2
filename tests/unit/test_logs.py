"""One log format: the bot's records and gunicorn's, JSON or text, one line each, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from bot import logs

SECRET = "rotating-encrypt-key-value"


@pytest.fixture
def root_handlers():
    """Leaves the root logger's handlers as it found them."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    root.handlers[:] = before
    root.setLevel(level)


def capture(fmt: str, secrets: tuple[str, ...] = (SECRET,)) -> io.StringIO:
    buffer = io.StringIO()
    logs.setup("DEBUG", secrets, stream=buffer, fmt=fmt)
    return buffer


def test_text_records_are_one_line_with_fields_and_no_secrets(root_handlers):
    buffer = capture("text")
    logging.getLogger("assessbot.events").info("job failed\nINFO forged: line", extra={
        "event_id": "ev1", "reason": f"key {SECRET} refused", "attempts": 3, "counts": {"jobs": 0}})
    line = buffer.getvalue()
    assert line.count("\n") == 1
    assert line.split(" ", 1)[1] == ('INFO    assessbot.events: job failed\\nINFO forged: line  event_id=ev1 '
                         'reason="key [secret] refused" attempts=3 counts={"jobs": 0}\n')


def test_text_tracebacks_are_indented_under_their_record(root_handlers):
    buffer = capture("text")
    try:
        raise ValueError(f"bad\nERROR forged {SECRET}")
    except ValueError:
        logging.getLogger("assessbot").exception("handler failed", extra={"event_id": "ev2"})
    first, *rest = buffer.getvalue().splitlines()
    assert first.endswith("ERROR   assessbot: handler failed  event_id=ev2")
    assert rest and all(line.startswith("    | ") for line in rest)
    assert rest[-2:] == ["    | ValueError: bad", "    | ERROR forged [secret]"]


def test_json_records_stay_as_they_were(root_handlers):
    buffer = capture("json")
    logging.getLogger("assessbot").warning("request rejected", extra={"status": 401, "reason": SECRET})
    record = json.loads(buffer.getvalue())
    assert {k: v for k, v in record.items() if k != "ts"} == {
        "level": "WARNING", "logger": "assessbot", "msg": "request rejected", "status": 401, "reason": "[secret]"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_by_default_a_terminal_gets_text_and_anything_else_json(root_handlers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSESSBOT_LOG_FORMAT", raising=False)
    assert isinstance(logs.setup("INFO", stream=Terminal()).formatter, logs.TextFormatter)
    assert isinstance(logs.setup("INFO", stream=io.StringIO()).formatter, logs.JsonFormatter)
    monkeypatch.setenv("ASSESSBOT_LOG_FORMAT", "json")  # a terminal piped to a collector, say
    assert isinstance(logs.setup("INFO", stream=Terminal()).formatter, logs.JsonFormatter)
    monkeypatch.setenv("ASSESSBOT_LOG_FORMAT", "text")
    assert isinstance(logs.setup("INFO", stream=io.StringIO()).formatter, logs.TextFormatter)


def test_the_format_defaults_to_the_configured_one(root_handlers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSESSBOT_LOG_FORMAT", "text")
    assert isinstance(logs.setup("INFO", stream=io.StringIO()).formatter, logs.TextFormatter)
    monkeypatch.setenv("ASSESSBOT_LOG_FORMAT", "xml")  # refused by the settings check; the logs stay JSON
    assert isinstance(logs.setup("INFO", stream=io.StringIO()).formatter, logs.JsonFormatter)


def gunicorn_logger(monkeypatch, tmp_path, accesslog: str | None, fmt: str = "json") -> tuple:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("FEISHU_ENCRYPT_KEY_PREVIOUS", SECRET)
    monkeypatch.setenv("ASSESSBOT_LOG_FORMAT", fmt)
    cfg = Config()
    cfg.set("accesslog", accesslog)
    logger = logs.GunicornLogger(cfg)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_assessbot", False))
    buffer = io.StringIO()
    handler.setStream(buffer)
    return logger, buffer


def request(logger) -> None:  # type: ignore[no-untyped-def]
    response = SimpleNamespace(status="201 CREATED", sent=42)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/feishu/events", "QUERY_STRING": "token=t-abcdefgh12345",
               "RAW_URI": "/feishu/events?token=t-abcdefgh12345", "SERVER_PROTOCOL": "HTTP/1.1"}
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12.34))


def test_gunicorn_error_lines_go_through_the_bots_handler_scrubbed(root_handlers, monkeypatch, tmp_path):
    logger, buffer = gunicorn_logger(monkeypatch, tmp_path, None)
    logger.info("Booting worker with pid: %s", 1234)
    logger.error("worker said %s", SECRET)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [(r["logger"], r["level"], r["msg"]) for r in records] == [
        ("gunicorn.error", "INFO", "Booting worker with pid: 1234"),
        ("gunicorn.error", "ERROR", "worker said [secret]")]


def test_the_access_log_is_off_by_default(root_handlers, monkeypatch, tmp_path):
    logger, buffer = gunicorn_logger(monkeypatch, tmp_path, None)
    request(logger)
    assert buffer.getvalue() == ""


def test_the_access_log_is_one_request_record_without_the_query(root_handlers, monkeypatch, tmp_path):
    logger, buffer = gunicorn_logger(monkeypatch, tmp_path, "-")
    request(logger)
    record = json.loads(buffer.getvalue())
    assert {k: v for k, v in record.items() if k != "ts"} == {
        "level": "INFO", "logger": "gunicorn.access", "msg": "request", "method": "POST", "path": "/feishu/events",
        "status": 201, "duration_ms": 12.3, "bytes": 42}


def test_gunicorn_lines_follow_the_text_format_too(root_handlers, monkeypatch, tmp_path):
    logger, buffer = gunicorn_logger(monkeypatch, tmp_path, "-", fmt="text")
    request(logger)
    line = buffer.getvalue().split(" ", 1)[1]
    assert line == ("INFO    gunicorn.access: request  method=POST path=/feishu/events status=201 "
                    "duration_ms=12.3 bytes=42\n")


def test_not_learning_the_bots_open_id_is_logged_with_why(monkeypatch, caplog):
    """Feishu unreachable, then refusing: each attempt's line says why, never an empty code."""
    from types import SimpleNamespace

    import bot
    from bot.feishu.errors import FeishuError

    answers = [FeishuError(None, "cannot reach Feishu: ConnectionError"),
               FeishuError(99991663, "tenant access token invalid", log_id="LOG1", status=400), "ou_bot"]

    def bot_open_id() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    ctx = SimpleNamespace(feishu=SimpleNamespace(bot_open_id=bot_open_id), bot_open_id=None)
    monkeypatch.setattr(bot.time, "sleep", lambda seconds: None)
    with caplog.at_level(logging.WARNING, logger="assessbot"):
        bot._discover_bot(ctx)
    assert ctx.bot_open_id == "ou_bot"
    assert [(r.getMessage(), r.reason, getattr(r, "code", None), getattr(r, "log_id", None))
            for r in caplog.records] == [
        ("could not learn the bot's open_id yet", "cannot reach Feishu: ConnectionError", None, None),
        ("could not learn the bot's open_id yet", "tenant access token invalid", 99991663, "LOG1")]
    assert not hasattr(caplog.records[0], "code")


def test_a_connection_the_server_dropped_is_one_warning_not_a_traceback():
    """The pool's failed roll-back of a connection the server killed is said in one line with the driver's reason."""
    import io
    import json
    import logging

    from bot import logs

    out = io.StringIO()
    handler = logs.setup("INFO", stream=out, fmt="json")
    try:
        class OperationalError(Exception):
            pass

        class AdminShutdown(OperationalError):  # psycopg's, when the server terminates the connection
            pass

        try:
            raise AdminShutdown("consuming input failed: server closed the connection unexpectedly\nmore")
        except OperationalError:
            logging.getLogger("sqlalchemy.pool.impl.QueuePool").error("Exception during reset or similar",
                                                                     exc_info=True)
    finally:
        logging.getLogger().removeHandler(handler)
    [line] = out.getvalue().splitlines()
    said = json.loads(line)
    assert (said["level"], said["msg"], said["reason"]) == (
        "WARNING", "database connection lost while in use; the pool dropped it",
        "consuming input failed: server closed the connection unexpectedly")
    assert "Traceback" not in line
