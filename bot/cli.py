"""The `assessbot` command: run, serve, worker, console, sandbox, doctor.

Each subcommand lives in its own module exposing `configure(parser)` and `run(args) -> int`; they are
imported only when used, so `assessbot --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER_THREADS = 4  # a worker with ASSESSBOT_RUNNER_THREADS=0 (the web processes' value) would run nothing

# name -> (module, help); the module provides configure(parser) and run(args)
MODULES = {
    "console": ("bot.sandbox.console.chat", "chat with the bot from the terminal, as Feishu would deliver it"),
    "sandbox": ("bot.sandbox.run", "start a local Open API and the bot under gunicorn, then the console"),
    "import": ("bot.importing", "check a schedule file (CSV, XLSX, JSON Lines) and import its interviews"),
    "doctor": ("bot.doctor", "check a deployment: settings, Feishu credentials, database, rubric"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assessbot", description="Feishu bot for external interview assessments.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve the bot if Feishu credentials are set, otherwise start the sandbox")
    serve = sub.add_parser("serve", help="serve the bot under gunicorn (the Procfile's web process)")
    serve.add_argument("--port", help="overrides PORT (from the environment or .env; 8000 if unset)")
    sub.add_parser("worker", help="run the job runner on its own (set ASSESSBOT_RUNNER_THREADS=0 on web)")
    for name, (module, help_text) in MODULES.items():
        sub_parser = sub.add_parser(name, help=help_text)
        try:
            importlib.import_module(module).configure(sub_parser)
        except ModuleNotFoundError:
            sub_parser.set_defaults(unavailable=True)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.port)
    if args.command == "run":
        return _run()
    if args.command == "worker":
        return _worker()
    if getattr(args, "unavailable", False):
        print(f"assessbot {args.command} is not available in this version", file=sys.stderr)
        return 2
    return importlib.import_module(MODULES[args.command][0]).run(args)


def _run() -> int:
    """With credentials, the real bot; with none at all, the sandbox; with some, say what is missing."""
    from bot import settings

    if not settings.credentials().any_set() and "sandbox" in MODULES:
        module = importlib.import_module(MODULES["sandbox"][0])
        parser = argparse.ArgumentParser()
        module.configure(parser)
        return module.run(parser.parse_args([]))
    try:
        settings.load()
    except settings.SettingsError as exc:
        print(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
              "Copy config/assessbot.env.example to .env and fill in your Feishu app's credentials "
              "(README: Feishu app set-up).", file=sys.stderr)
        return 2
    return _serve(None)


def _serve(port: str | None) -> int:
    """Become gunicorn with config/gunicorn.conf.py, which reads the rest (HOST, PORT, …) as the bot does."""
    if port is not None:
        os.environ["PORT"] = str(port)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "bot:create_app()", "-c", str(ROOT / "config" / "gunicorn.conf.py")]
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def _worker() -> int:
    from bot import create_app, settings

    try:
        config = settings.load()
    except settings.SettingsError as exc:
        print(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
              "Set them in the environment or in .env (see config/assessbot.env.example).", file=sys.stderr)
        return 2
    if config.assessbot_runner_threads == 0:
        config = config.model_copy(update={"assessbot_runner_threads": WORKER_THREADS})
    app = create_app(config, start_runner=True)
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
