"""`python -m benchmarks.profile [N]`: where an acknowledgement's CPU goes, by area, measured in one process.

N signed, encrypted `/assess` pushes for new assessments go through the Flask app (no job runner, a fresh SQLite
file) under cProfile; each function's own time is put in the area its code belongs to. In-process figures leave
out gunicorn and the socket; they say what to make cheaper, not how fast a server answers.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.load import SENDER, assess_command
from benchmarks.procs import APP_ID, APP_SECRET, ENCRYPT_KEY, ROOT, TOKEN
from bot.sandbox import processes, push

AREAS = (  # (area, what a profile entry's file or name contains), first match wins
    ("SQLite (the driver's own calls)", ("sqlite3.Connection", "sqlite3.Cursor", "method 'execute' of 'sqlite3")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("Flask and Werkzeug (request, response, routing)", ("flask", "werkzeug")),
    ("decryption and signature", ("cryptography", "hashlib", "hmac", "bot/feishu/security")),
    ("JSON", ("json",)),
    ("pydantic", ("pydantic",)),
    ("logging", ("logging",)),
    ("the bot's own code", ("/bot/", "/cards/")),
)


def area(filename: str, name: str) -> str:
    where = f"{filename} {name}"
    return next((label for label, marks in AREAS if any(m in where for m in marks)), "other (Python, threads, locks)")


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(processes.bot_env(
            openapi_url="http://127.0.0.1:9", database_url=f"sqlite:///{Path(scratch) / 'bot.db'}", app_id=APP_ID,
            app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY, token=TOKEN, pythonpath=[ROOT],
            ASSESSBOT_LOG_LEVEL="WARNING"))
        from bot import create_app

        app = create_app(start_runner=False)
        client = app.test_client()
        pushes = [push.sealed(push.message_event(assess_command("prof", n), token=TOKEN, sender=SENDER,
                                                 chat_id="oc_bench"), ENCRYPT_KEY) for n in range(2 * count + 50)]
        for body, headers in pushes[:50]:  # warm: first connections, caches, the tenant's first statements
            client.post("/feishu/events", data=body, headers=headers)
        started = time.process_time()
        for body, headers in pushes[50:count + 50]:
            assert client.post("/feishu/events", data=body, headers=headers).status_code == 200
        plain = time.process_time() - started
        profiler = cProfile.Profile()
        profiler.enable()
        for body, headers in pushes[count + 50:]:
            assert client.post("/feishu/events", data=body, headers=headers).status_code == 200
        profiler.disable()
        app.extensions["assessbot"].store.dispose()
    by_area: dict[str, float] = {}
    for (filename, _, name), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        by_area[area(filename, name)] = by_area.get(area(filename, name), 0.0) + own
    total = sum(by_area.values())
    if "--other" in sys.argv:  # what "other" is made of, for the curious
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        rest = sorted(((own, f"{f}:{n}") for (f, _, n), (_, _, own, _, _) in stats.items()
                       if area(f, n).startswith("other")), reverse=True)[:12]
        for own, where in rest:
            print(f"  other {own / total:5.1%}  {where}")
    print(f"{count} acknowledgements: {plain / count * 1000:.2f} ms of CPU each in process; then {count} more "
          "under the profiler, whose own time by area is:")
    for label, own in sorted(by_area.items(), key=lambda item: -item[1]):
        print(f"  {own / total:5.1%}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
