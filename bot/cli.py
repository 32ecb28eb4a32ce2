"""The `assessbot` command: serve the bot, run the job worker, check a deployment."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assessbot", description="Feishu bot for external interview assessments.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the bot under gunicorn (the Procfile's web process)")
    serve.add_argument("--port", default=os.environ.get("PORT", "8000"))
    sub.add_parser("worker", help="run the job runner on its own (set ASSESSBOT_RUNNER_THREADS=0 on web)")
    sub.add_parser("run", help="check the settings, then serve the bot")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.port)
    if args.command == "run":
        return _run()
    return _worker()


def _run() -> int:
    from bot import settings

    try:
        settings.load()
    except settings.SettingsError as exc:
        print(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
              "Copy config/assessbot.env.example to .env and fill in your Feishu app's credentials "
              "(README: Feishu app set-up).", file=sys.stderr)
        return 2
    return _serve(os.environ.get("PORT", "8000"))


def _serve(port: str) -> int:
    os.environ["PORT"] = str(port)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "bot:create_app()", "-c", str(ROOT / "config" / "gunicorn.conf.py")]
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def _worker() -> int:
    from bot import create_app

    os.environ.setdefault("ASSESSBOT_RUNNER_THREADS", "4")
    app = create_app(start_runner=True)
    runner = app.extensions["assessbot"].runner
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print("assessbot worker: running jobs; Ctrl-C stops", file=sys.stderr)
    stop.wait()
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
