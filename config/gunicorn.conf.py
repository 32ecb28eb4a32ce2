"""gunicorn settings for the bot (used by the Procfile, `assessbot run` and `assessbot serve`).

HOST, PORT, WEB_CONCURRENCY, GUNICORN_THREADS and ASSESSBOT_ACCESS_LOG are read as the bot reads every
setting: from the environment, or from .env in the working directory (the environment wins).
"""

import atexit
import gc
import glob
import os
import shutil
import sys
import tempfile

from bot import settings

try:
    server = settings.load_server()
except settings.SettingsError as exc:
    sys.exit(f"assessbot cannot start: the configuration has problems:\n{exc}\n"
             "Set them in the environment or in .env (see config/assessbot.env.example).")

bind = f"{server.host}:{server.port}"
workers = server.web_concurrency
# gthread: a card callback may wait up to ASSESSBOT_CALLBACK_BUDGET for its write; other requests go on.
worker_class = "gthread"
threads = server.gunicorn_threads
# Import lark-oapi (seconds, ~170 MB) once in the master and share those pages with every worker.
preload_app = True
timeout = 30
graceful_timeout = 10
keepalive = 5
# gunicorn's logs in the bot's format (ASSESSBOT_LOG_FORMAT), scrubbed like the bot's; one record per request
# only with ASSESSBOT_ACCESS_LOG=1 (the bot logs what it does with each push anyway).
logger_class = "bot.logs.GunicornLogger"
accesslog = "-" if server.assessbot_access_log else None
# The control socket sits at one path per user: several instances (or a sandbox) on one machine would share it.
control_socket_disable = True
# Metrics summed over the workers (prometheus_client's multiprocess mode): each process writes its counters to
# files in one directory, set before the app (and prometheus_client) is imported. Unless PROMETHEUS_MULTIPROC_DIR
# names one, it is this server's own, made here and removed when the server stops (on_exit); the name carries the
# master's pid, so the directory of a server that was killed is removed by the next start on this machine.
METRICS_PREFIX = "assessbot-metrics-"
OWN_METRICS_DIR = "ASSESSBOT_OWN_METRICS_DIR"  # the directory this server made (a USR2 successor inherits it)


def _remove_abandoned_metrics() -> None:
    """Remove the metrics directories of this user's servers that are gone (killed before on_exit could)."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{METRICS_PREFIX}*-*")):
        pid = os.path.basename(path).removeprefix(METRICS_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or os.stat(path).st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, someone else's
            pass


MASTER_PID = os.getpid()  # gunicorn reads this file in its master


def _remove_own_metrics() -> None:
    """At the master's exit (after on_exit, or when the app failed to load), the directory it made goes."""
    if os.getpid() == MASTER_PID and os.environ.get(OWN_METRICS_DIR) == metrics_dir and not handed_over:
        shutil.rmtree(metrics_dir, ignore_errors=True)


if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    _remove_abandoned_metrics()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[OWN_METRICS_DIR] = tempfile.mkdtemp(
        prefix=f"{METRICS_PREFIX}{os.getpid()}-")
    atexit.register(_remove_own_metrics)  # workers run it too when they exit: it checks that this is the master
metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
handed_over = False  # set by on_exit when a successor started with USR2 carries on with the directory
os.makedirs(metrics_dir, mode=0o700, exist_ok=True)
for stale in glob.glob(os.path.join(metrics_dir, "*.db")):  # a previous run's counters
    os.remove(stale)
# The job runner's threads must start in each worker, after the fork.
os.environ.setdefault("ASSESSBOT_DEFER_RUNNER", "1")
# No garbage collection while the app is preloaded: lark-oapi creates ~330,000 objects, and the collector
# passes over them again and again as they are made (about 1.5 s of a 6 s start). They live as long as the
# process; when_ready freezes them and turns the collector back on (the recipe of the gc.freeze docs).
gc.disable()


def _bot(app):
    """The bot's context in a loaded app (None before loading, or for another app under these settings)."""
    return getattr(app, "extensions", {}).get("assessbot")


def when_ready(server):
    # The master never uses the database again: close what the preloaded app opened, so no connection of it
    # outlives the workers (SQLite keeps its -wal file while one is open).
    if (ctx := _bot(getattr(server.app, "callable", None))) is not None:
        ctx.store.dispose()
    # Objects made before the fork are never freed; freezing them keeps the collector from touching (and so
    # copying) the shared pages in every worker. No collection first: it would take 0.3 s and leave holes in
    # the pages the workers share.
    gc.freeze()
    gc.enable()


def post_fork(server, worker):  # noqa: ARG001
    ctx = worker.app.callable.extensions["assessbot"]
    ctx.store.engine.dispose(close=False)  # never share the master's database connections


def post_worker_init(worker):
    from bot import start_background

    start_background(worker.app.callable)


def worker_exit(server, worker):  # noqa: ARG001
    # Close the long connection (answering what is in flight) and release its lease, so another process takes
    # it over at once rather than after the lease expires.
    from bot import stop_background

    if (ctx := _bot(worker.app.callable)) is not None:
        stop_background(worker.app.callable)
        ctx.store.dispose()  # closed cleanly: SQLite removes its -wal file once no process has it open


def child_exit(server, worker):  # noqa: ARG001
    # A worker's live gauges must not outlive it; its counters stay in the sums.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    # A clean stop leaves nothing behind: the master's connections (none since when_ready, unless it never got
    # there), the writer lock's files once no process uses the database, and this server's metrics directory
    # (removed at exit by _remove_own_metrics) unless a successor started with USR2 carries on with it.
    global handed_over
    if (ctx := _bot(getattr(server.app, "callable", None))) is not None:
        ctx.store.dispose()
    handed_over = bool(server.reexec_pid)
