"""PostgreSQL beside SQLite: acknowledgements at the fixed rates, and a drain by two instances sharing one database.

The server is the one named by ASSESSBOT_BENCH_POSTGRES (default: the local server, database assessbot_bench,
created when missing); every run starts from empty tables. Without a reachable server the rows say why.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from benchmarks import load, procs
from benchmarks.lab import ack_row, drain_figures, patches
from benchmarks.report import Row
from bot.store import Store, make_engine, metadata
from bot.store.migrations import VERSION_TABLE

if TYPE_CHECKING:
    from benchmarks.lab import Lab

URL = os.environ.get("ASSESSBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/assessbot_bench")
RATES = (50, 200)


def unreachable(url: str = URL) -> str | None:
    """Why the PostgreSQL server cannot be used (None: it can), creating the database when it is missing."""
    try:
        fresh(url)
        return None
    except Exception as first:  # noqa: BLE001 - any failure to connect is a reason to skip
        base, _, name = url.rpartition("/")
        try:
            admin = create_engine(make_engine(f"{base}/postgres").url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            fresh(url)
            return None
        except Exception:  # noqa: BLE001
            return f"no PostgreSQL at {url.rpartition('@')[2]} ({type(first).__name__})"


def fresh(url: str = URL) -> None:
    """Empty tables: drop what a previous run left (its schema version too), then create them as the bot does."""
    engine = make_engine(url)
    try:
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    finally:
        engine.dispose()
    store = Store(url)
    try:
        store.create_schema()
    finally:
        store.dispose()


def run(lab: Lab) -> None:
    """The PostgreSQL rows: ack @ 50/s and 200/s, and the drain by two instances on one database."""
    reason = unreachable()
    if reason:
        lab.rows.append(Row("PostgreSQL rows", "skipped", {}, None, reason, "—", None))
        return
    assert lab.api is not None
    lab.api.clear_faults()
    for rate in RATES[:1] if lab.sizes.shared else RATES:  # quick: one rate, start-ups dominate
        fresh()
        with procs.server(procs.BOT_APP, lab.workdir, "pg-ack", openapi_url=lab.api.url, database_url=URL) as bot:
            outcome = lab.load(bot.url, rate, lab.sizes.duration)
        row = ack_row("ack, PostgreSQL", rate, outcome)
        ours, floor = load.percentiles(outcome.latencies), lab.floor.get(f"{rate:g}/s")
        sqlite = lab.fast.get(f"{rate:g}/s")
        row.target = "p99 ≤ 1.5× floor, 0 non-2xx"
        if ours and sqlite and sqlite.latencies:
            row.figure = f"p99 {ours['p99'] / load.percentiles(sqlite.latencies)['p99']:.2f}× SQLite's; " + row.figure
        if ours and floor and floor.latencies:
            base = load.percentiles(floor.latencies)["p99"]
            row.figure = f"p99 {ours['p99'] / base:.2f}× floor; " + row.figure
            row.met = ours["p99"] <= 1.5 * base and outcome.failed == 0
        row.figure = row.figure.rstrip("; ")
        lab.rows.append(row)
    fresh()
    n = lab.sizes.backlog
    with procs.server(procs.BOT_APP, lab.workdir, "pg-queue", openapi_url=lab.api.url, database_url=URL,
                      ASSESSBOT_RUNNER_THREADS=0) as queueing:
        pushed = lab.load(queueing.url, None, 600.0, limit=n, processes=2, threads=4)
    lab.api.reset()
    with ExitStack() as both:
        for name in ("pg-drain-a", "pg-drain-b"):
            both.enter_context(procs.server(procs.BOT_APP, lab.workdir, name, openapi_url=lab.api.url,
                                            database_url=URL, workers=1))
        calls = patches(lab.api, n)
    lab.rows.append(drain_figures(f"backlog drain, PostgreSQL, two instances on one database ({n} queued writes)",
                              calls, n, pushed.failed))
