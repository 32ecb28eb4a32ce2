"""assessbot: record Feishu Hire external interview assessments from a chat command or a card form.

The WSGI entry point is `bot:create_app()`; nothing is built at import time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from bot.services import FeishuApi
    from bot.settings import Settings

SWITCH_INTERVAL = 0.001  # seconds; see start_background


def create_app(settings: Settings | None = None, *, feishu_api: FeishuApi | None = None,
               clock: Callable[[], float] = time.time, start_runner: bool | None = None) -> Flask:
    """Build the Flask app: settings, rubric, database, Feishu client and the job runner, once."""
    from flask import Flask

    import bot.commands  # noqa: F401  (registers the command units)
    from bot import jobs, logs, rubric, services
    from bot import settings as settings_module
    from bot import store as store_module
    from bot.adapters import webhook
    from bot.feishu.connection import TOKENS
    from bot.forms import mapping
    from bot.forms.catalogue import local_form
    from bot.jobs.runner import Runner

    settings = settings or _settings_or_exit(settings_module)
    try:
        the_rubric = rubric.load(settings.assessbot_rubric)
        form_map = mapping.load(settings.assessbot_forms)
    except (rubric.RubricError, mapping.MappingError) as exc:
        raise SystemExit(f"assessbot cannot start: {exc}") from None
    if feishu_api is None:
        from bot.feishu.client import Feishu

        feishu_api = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                                   settings.assessbot_api_timeout, settings.assessbot_log_level)
    logs.setup(settings.assessbot_log_level, settings.secret_values(), fmt=settings.assessbot_log_format)
    try:
        store = store_module.Store(settings.database_url, clock)
        store.create_schema(quiet=True)  # upgrades an older schema; refuses a newer one
        store.remember_local_form(local_form(the_rubric))  # so what is written with it keeps its titles
    except (store_module.SchemaTooNew, store_module.Misconfigured) as exc:
        raise SystemExit(f"assessbot cannot start: {exc}") from None
    except store_module.Unavailable as exc:
        if store_module.misconfigured(exc):  # waiting would not help: a database or role that does not exist
            raise SystemExit(f"assessbot cannot start: {store_module.explain(exc, settings.database_url)}") from None
        import logging

        # An outage: start anyway; /readyz says so, and the first transaction creates the tables once it answers.
        logging.getLogger("assessbot").warning("the database is unavailable at start; its schema is upgraded "
                                               "once it answers", extra={"reason": store_module.errors.reason(exc)})
    from bot.forms.catalogue import Catalogue

    ctx = services.Context(settings=settings, rubric=the_rubric, store=store, feishu=feishu_api, clock=clock,
                          bot_open_id=settings.feishu_bot_open_id or None,
                          forms=Catalogue(store, the_rubric, form_map))

    def housekeeping() -> dict[str, int]:
        """Every 10 minutes in each runner: old records purged, and a forms sync kept planned."""
        purged = store.purge(settings.assessbot_dedup_ttl_seconds, settings.assessbot_job_ttl_seconds)
        jobs.forms.keep_planned(ctx)
        return purged

    ctx.runner = Runner(store, jobs.executors(ctx), threads=settings.assessbot_runner_threads, clock=clock,
                        purge=housekeeping, tokens=TOKENS, in_flight=ctx.in_flight)
    app = Flask("assessbot")
    app.config["MAX_CONTENT_LENGTH"] = settings.assessbot_max_body_bytes + 1  # see web._body
    app.extensions["assessbot"] = ctx
    app.register_blueprint(webhook.bp)
    if start_runner is None:  # under gunicorn the runner starts in each worker, after the fork
        start_runner = os.environ.get("ASSESSBOT_DEFER_RUNNER") != "1"
    if start_runner:
        start_background(app)
    return app


def start_background(app: Flask) -> None:
    """Start what runs beside requests in this process: the job runner, a sync of the feedback forms, learning the
    bot's open_id, and in long-connection mode the election of the one process that holds the connection
    (bot/adapters/longconn.py)."""
    import threading

    ctx = app.extensions["assessbot"]
    if ctx.runner.threads:
        # Job threads share the interpreter with request threads: hand it over every millisecond rather than
        # every 5 (Python's default), so an acknowledgement waits at most that long for a job's CPU work.
        sys.setswitchinterval(SWITCH_INTERVAL)
    ctx.runner.start()
    from bot.jobs.forms import sync_now

    sync_now(ctx)  # the forms are read from Hire at start, by whichever runner takes the job
    if ctx.settings.feishu_event_mode == "longconn" and "assessbot_longconn" not in app.extensions:
        from bot.adapters.longconn import Elector

        app.extensions["assessbot_longconn"] = Elector(ctx, clock=ctx.clock).start()
    if ctx.bot_open_id is None and hasattr(ctx.feishu, "bot_open_id"):
        threading.Thread(target=_discover_bot, args=(ctx,), name="assessbot-bot-info", daemon=True).start()
    queue_start_jobs(ctx)


def queue_start_jobs(ctx) -> None:  # type: ignore[no-untyped-def]
    """The jobs a start queues for the whole deployment (dedup keys: every process tries, one succeeds): looking up
    the schedulers named by email (once a day), and the current periodic read of each followed Bitable (which plans
    the next). Nothing is called here; a database that cannot store now is skipped (logged)."""
    import hashlib
    import logging
    from datetime import UTC, datetime

    from bot import auth
    from bot.contract import LearnPeople, NewJob
    from bot.jobs.bitable import first_sync
    from bot.schedule.intake import REFRESH

    now = ctx.clock()
    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    try:
        emails = auth.scheduler_emails(ctx.settings)
        stale = sorted(set(emails) - set(ctx.store.people(emails, now - REFRESH))) if emails else []
        if stale:
            digest = hashlib.sha256("\0".join(stale).encode()).hexdigest()[:16]
            ctx.store.accept([f"schedulers:{day}:{digest}"], [NewJob(LearnPeople(refs=stale))])
        for url in ctx.settings.assessbot_schedule_bitable:
            key, job = first_sync(url, ctx.settings.assessbot_schedule_sync_minutes * 60.0, now)
            ctx.store.accept([key], [job])
    except Exception as exc:
        logging.getLogger("assessbot").warning("could not queue the start's jobs", extra={"reason": repr(exc)[:200]})


def stop_background(app: Flask, timeout: float = 5.0) -> None:
    """Stop what start_background started: the long connection first (it may still hand work over), then jobs."""
    elector = app.extensions.pop("assessbot_longconn", None)
    if elector is not None:
        elector.stop(timeout)
    app.extensions["assessbot"].runner.stop(timeout)


def _discover_bot(ctx) -> None:  # type: ignore[no-untyped-def]
    """Ask Feishu who the bot is, so its @-mention is recognised in groups (until then: the first mention)."""
    import logging

    from bot.feishu.errors import FeishuError

    log = logging.getLogger("assessbot")
    for delay in (0, 5, 30, 120, 600):
        time.sleep(delay)
        try:
            ctx.bot_open_id = ctx.feishu.bot_open_id()
            return
        except FeishuError as exc:
            log.warning("could not learn the bot's open_id yet", extra=exc.log_fields())
        except Exception:
            log.exception("could not learn the bot's open_id yet")


def _settings_or_exit(module) -> Settings:  # type: ignore[no-untyped-def]
    try:
        return module.load()
    except module.SettingsError as exc:
        print(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
              "Set them in the environment or in .env (see config/assessbot.env.example).", file=sys.stderr)
        raise SystemExit(2) from None
