"""Where the hostile inputs land: the bot's Flask app in this process on a fresh SQLite database, the sandbox Open API
in a thread, every row the bot writes counted by table, and every warning and error it logs counted by message."""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.feishu.security import encrypt, signature
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi.backend import BOT_OPEN_ID
from bot.settings import Settings

APP_ID, APP_SECRET = "cli_hostile", "hostile-app-secret"
ENCRYPT_KEY = "hostile encrypt key"
TOKEN = "hostileVerificationToken0123456789"
INTAKE_TOKEN = "hostile-intake-token-0123456789abcdef"
PLANNER = "ou_planner0000000000000000000000000"  # may send schedule files
CHAT = "oc_p2p0000000000000000000000000000"
_WRITE = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


class Logged(logging.Handler):
    """Counts what the bot logs at WARNING and above, by level and message; the text itself is dropped."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        said = str(record.msg)[:60]
        if record.exc_info and record.exc_info[1] is not None:  # where it was raised, never its message
            import traceback

            exc = record.exc_info[1]
            last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            said += f" — {type(exc).__name__}" + (f" at {Path(last.filename).name}:{last.lineno}" if last else "")
        self.counts[(record.levelname, said)] += 1

    def errors(self) -> int:
        """Records at ERROR and above: a handler that failed, a bug the bot answered politely."""
        return sum(n for (level, _), n in self.counts.items() if level in ("ERROR", "CRITICAL"))


class Lab:
    """The app from `bot.create_app`, its test client, the sandbox Open API and the counters; a context manager."""

    def __init__(self, **overrides: Any) -> None:
        from bot import create_app

        self._dir = tempfile.TemporaryDirectory(prefix="assessbot-hostile-")
        self.api = serve(api=FakeOpenAPI(app_id=APP_ID, app_secret=APP_SECRET))
        values: dict[str, Any] = dict(
            feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET, feishu_verification_token=TOKEN,
            feishu_encrypt_key=ENCRYPT_KEY, feishu_domain=self.api.url, feishu_bot_open_id=BOT_OPEN_ID,
            database_url=f"sqlite:///{Path(self._dir.name) / 'hostile.db'}", assessbot_runner_threads=0,
            assessbot_intake_token=INTAKE_TOKEN, assessbot_schedulers=(PLANNER,), assessbot_log_level="WARNING",
            assessbot_log_format="json", assessbot_api_timeout=10)
        values.update(overrides)
        self.settings = Settings(_env_file=None, **values)
        self.app = create_app(self.settings, start_runner=False)
        self.ctx = self.app.extensions["assessbot"]
        self.client = self.app.test_client()
        self.logged = Logged()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_assessbot", False)]:
            root.removeHandler(handler)  # a million refusals are counted, not printed
        root.addHandler(self.logged)
        self.writes: Counter[str] = Counter()  # rows committed, by table (a dry run's rolled back rows are not)
        self._pending: dict[int, Counter[str]] = {}
        engine = self.ctx.store.engine
        event.listen(engine, "after_cursor_execute", self._counted)
        event.listen(engine, "commit", lambda conn: self.writes.update(self._pending.pop(id(conn), Counter())))
        event.listen(engine, "rollback", lambda conn: self._pending.pop(id(conn), None))

    def _counted(self, conn, cursor, statement: str, parameters, context, executemany: bool) -> None:  # noqa: ANN001
        found = _WRITE.match(statement)
        if found and cursor.rowcount and cursor.rowcount > 0:
            self._pending.setdefault(id(conn), Counter())[found.group(1).lower()] += cursor.rowcount

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """POST raw bytes with these headers; the status."""
        return self.client.post(path, data=body, headers=headers, content_type="application/json").status_code

    def close(self) -> None:
        """Stop the runner's pools, the database and the Open API; remove the directory."""
        logging.getLogger().removeHandler(self.logged)
        self.ctx.inline.shutdown(wait=True)
        self.ctx.store.dispose()
        self.api.stop()
        self._dir.cleanup()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seal(payload: dict | bytes) -> bytes:
    """A body encrypted with the bot's Encrypt Key, as Feishu sends it."""
    return encrypt(payload, ENCRYPT_KEY)


def signed(body: bytes, now: float | None = None) -> dict[str, str]:
    """The signature headers Feishu would send with this body."""
    timestamp, nonce = str(int(time.time() if now is None else now)), uuid.uuid4().hex[:16]
    return {"X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature(timestamp, nonce, ENCRYPT_KEY, body)}
