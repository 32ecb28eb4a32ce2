"""The `assessbot` command: run, serve, worker, console, sandbox, db, jobs, export, import, forms, doctor.

Each subcommand lives in its own module exposing `configure(parser)` and `run(args) -> int`; only the module of
the command given is imported, and none of them imports lark_oapi before it calls Feishu, so `--help`,
`--version`, `db`, `jobs`, `export` and `import --dry-run` answer without the SDK's second-long import.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER_THREADS = 4  # a worker with ASSESSBOT_RUNNER_THREADS=0 (the web processes' value) would run nothing

# name -> (module, help); the module provides configure(parser) and run(args)
MODULES = {
    "console": ("bot.sandbox.console.chat", "chat with the bot from the terminal, as Feishu would deliver it"),
    "sandbox": ("bot.sandbox.run", "start a local Open API and the bot under gunicorn, then the console"),
    "db": ("bot.cli.db", "the database's schema: upgrade it to this release, or show its version"),
    "jobs": ("bot.cli.jobs", "list pending, retrying and dead jobs; retry or discard one"),
    "export": ("bot.cli.export", "write the known assessments and the audit trail as JSON lines or CSV"),
    "import": ("bot.cli.importing", "check a schedule file (CSV, XLSX, JSON Lines) and import its interviews"),
    "forms": ("bot.cli.forms", "list the feedback forms read from Feishu Hire and what uses each; sync: read them now"),
    "doctor": ("bot.cli.doctor", "check a deployment: settings, Feishu credentials, database, rubric and forms"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((word for word in argv if not word.startswith("-")), None)  # the top level has no valued options
    parser = argparse.ArgumentParser(prog="assessbot", description="Feishu bot for external interview assessments.")
    parser.add_argument("--version", action="version", version=f"assessbot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add(sub, "run", "serve the bot if Feishu credentials are set, otherwise start the sandbox")
    serve = _add(sub, "serve", "serve the bot under gunicorn (the Procfile's web process)")
    serve.add_argument("--port", help="overrides PORT (from the environment or .env; 8000 if unset)")
    _add(sub, "worker", "run the job runner on its own (set ASSESSBOT_RUNNER_THREADS=0 on web)")
    for name, (module, help_text) in MODULES.items():
        sub_parser = _add(sub, name, help_text)
        if name != chosen:
            continue
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
    # The store's log lines speak to a server's operator ("pushes are refused until it is back"); a command says
    # what went wrong in its own words, once, on stderr.
    logging.getLogger("assessbot.store").addHandler(logging.NullHandler())
    logging.getLogger("assessbot.store").propagate = False
    return importlib.import_module(MODULES[args.command][0]).run(args)


def _add(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand with its one-line description, in `assessbot --help` and in its own --help."""
    return sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")


def _version() -> str:
    try:
        return importlib.metadata.version("assessbot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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
    from bot import create_app, settings, stop_background

    try:
        config = settings.load()
    except settings.SettingsError as exc:
        print(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
              "Set them in the environment or in .env (see config/assessbot.env.example).", file=sys.stderr)
        return 2
    if config.assessbot_runner_threads == 0:
        config = config.model_copy(update={"assessbot_runner_threads": WORKER_THREADS})
    app = create_app(config, start_runner=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    longconn = " and the long connection (when this process holds it)" if config.feishu_event_mode == "longconn" else ""
    print(f"assessbot worker: running jobs{longconn}; Ctrl-C stops", file=sys.stderr)
    stop.wait()
    stop_background(app)  # the connection first (within 5 s), then the runner
    app.extensions["assessbot"].store.dispose()  # closed cleanly: nothing left beside an SQLite database
    return 0


