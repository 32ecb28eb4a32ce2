"""gunicorn settings for the bot (used by the Procfile, `assessbot run` and `assessbot serve`).

HOST, PORT, WEB_CONCURRENCY, GUNICORN_THREADS and ASSESSBOT_ACCESS_LOG are read as the bot reads every
setting: from the environment, or from .env in the working directory (the environment wins).
"""

import gc
import glob
import os
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
# files in this directory, emptied here before the app (and prometheus_client) is imported.
metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                    os.path.join(tempfile.gettempdir(), f"assessbot-metrics-{server.port}"))
os.makedirs(metrics_dir, mode=0o700, exist_ok=True)
for stale in glob.glob(os.path.join(metrics_dir, "*.db")):  # a previous run's counters
    os.remove(stale)
# The job runner's threads must start in each worker, after the fork.
os.environ.setdefault("ASSESSBOT_DEFER_RUNNER", "1")
# No garbage collection while the app is preloaded: lark-oapi creates ~330,000 objects, and the collector
# passes over them again and again as they are made (about 1.5 s of a 6 s start). They live as long as the
# process; when_ready freezes them and turns the collector back on (the recipe of the gc.freeze docs).
gc.disable()


def when_ready(server):  # noqa: ARG001
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

    stop_background(worker.app.callable)


def child_exit(server, worker):  # noqa: ARG001
    # A worker's live gauges must not outlive it; its counters stay in the sums.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
