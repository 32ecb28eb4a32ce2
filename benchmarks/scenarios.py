"""`python -m benchmarks`: acknowledgement latency and throughput against a floor, interactive latency, drain, memory.

Everything runs on this machine over loopback: gunicorn with the shipped config/gunicorn.conf.py, the local
Open API (bot/sandbox/openapi/) in its own process, and a load generator (benchmarks/load.py) sending
pre-signed, encrypted pushes. The table is printed and written to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from benchmarks import load, procs, report
from benchmarks.lab import (
    MB,
    QUICK,
    RATES,
    SLOW_API_SECONDS,
    Lab,
    Sizes,
    ack_row,
    cpu_row,
    drain_figures,
    label,
    patches,
    ratio,
)
from benchmarks.report import Row, duration, megabytes
from bot.sandbox.processes import Gunicorn

# the table's order
SCENARIOS = ("floor", "ack", "worker", "slow", "interactive", "drain", "growth", "postgres", "memory")
# start-ups first
RUN_ORDER = ("memory", "floor", "interactive", "drain", "ack", "worker", "growth", "slow", "postgres")
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a few requests per scenario (seconds, not minutes)")
    parser.add_argument("--duration", type=float, help="seconds of each fixed-rate run (default 30)")
    parser.add_argument("--output", default="BENCHMARKS.md", help="where to write the table (default BENCHMARKS.md)")
    parser.add_argument("--only", help=f"comma-separated scenarios: {','.join(SCENARIOS)}")
    parser.add_argument("--workdir", help="keep the databases and server logs in this directory (default: a "
                                          "temporary one, removed afterwards)")


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m benchmarks [--quick] [--only …] [--duration S] [--output F] [--workdir D]`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Measure acknowledgement latency, "
                                     "throughput, drain rate and memory; write the table to BENCHMARKS.md.")
    configure(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the scenarios, print the table and write it to --output."""
    only = [s.strip() for s in (args.only or ",".join(SCENARIOS)).split(",") if s.strip()]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        print(f"benchmarks: unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}",
              file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else Sizes()
    if args.duration:
        sizes = Sizes(**{**sizes.__dict__, "duration": args.duration,
                         "saturation": max(1.0, min(sizes.saturation, args.duration))})
    started, load_before = datetime.now(), os.getloadavg()
    if load_before[0] > 0.5 and not args.quick:
        print(f"benchmarks: the machine is busy (load {load_before[0]:.2f}); figures will be noisy",
              file=sys.stderr)
    with _workdir(args.workdir) as workdir, Lab(workdir, sizes) as lab:
        found: dict[str, list[Row]] = {}
        for scenario in (s for s in RUN_ORDER if s in only):
            _say(f"{scenario} …")
            before = len(lab.rows)
            SCENARIO_RUNS[scenario](lab)
            found[scenario] = lab.rows[before:]
        rows = [row for scenario in SCENARIOS for row in found.get(scenario, [])]
    print(report.table(rows))
    output = Path(args.output)
    text = report.document(rows, _command(args), started, load_before, NOTES, report.kept_part(output))
    output.write_text(text, encoding="utf-8")
    _say(f"written to {output}")
    return 0


@contextlib.contextmanager
def _workdir(path: str | None) -> Iterator[Path]:
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path).resolve()
        return
    with tempfile.TemporaryDirectory(prefix="assessbot-bench-") as tmp:
        yield Path(tmp)


def _command(args: argparse.Namespace) -> str:
    words = ["python", "-m", "benchmarks"]
    if args.quick:
        words.append("--quick")
    if args.duration:
        words += ["--duration", f"{args.duration:g}"]
    if args.only:
        words += ["--only", args.only]
    if args.output != "BENCHMARKS.md":
        words += ["--output", args.output]
    return " ".join(words)


def _say(text: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# -- scenarios --------------------------------------------------------------------------------------------

def _floor(lab: Lab) -> None:
    """The minimal app under the same gunicorn settings: the reference for the acknowledgement rows."""
    from benchmarks.floor import gunicorn_config

    config = gunicorn_config(procs.GUNICORN_CONF, lab.workdir)
    with procs.server(procs.FLOOR_APP, lab.workdir, "floor", config=config) as server:
        for rate in (*RATES, None):
            outcome = lab.load(server.url, rate, lab.sizes.duration if rate else lab.sizes.saturation, server)
            lab.floor[label(rate)] = outcome
            row = ack_row("floor: signature + INSERT", rate, outcome)
            row.target = "reference"
            lab.rows.append(row)


def _ack(lab: Lab) -> None:
    """`/assess <new id> pass coding=4` pushes: each commits a dedup record and a write job before the 200."""
    assert lab.api is not None
    lab.api.clear_faults()
    with lab.bot() as server:
        _ack_rows(lab, "ack", server, lab.fast)


def _worker(lab: Lab) -> None:
    """The same pushes with the job runner in a process of its own (`assessbot worker`) and none in the web
    workers: jobs then share the machine's cores with acknowledgements, but not a Python interpreter."""
    assert lab.api is not None
    lab.api.clear_faults()
    with (procs.server(procs.BOT_APP, lab.workdir, "worker-web", openapi_url=lab.api.url,
                       ASSESSBOT_RUNNER_THREADS=0) as server,  # on a fresh worker-web.db
          procs.worker(lab.workdir, "worker", openapi_url=lab.api.url, database=lab.workdir / "worker-web.db")):
        _ack_rows(lab, "ack, job runner in its own process (`assessbot worker`)", server, {})


def _ack_rows(lab: Lab, name: str, server: Gunicorn, outcomes: dict) -> None:
    """The fixed-rate and saturation rows of acknowledgements against `server`, each beside the floor's, and the
    CPU each acknowledgement cost the server's processes beside the floor's."""
    for rate in (*RATES, None):
        outcome = lab.load(server.url, rate, lab.sizes.duration if rate else lab.sizes.saturation, server)
        outcomes[label(rate)] = outcome
        row = ack_row(name, rate, outcome)
        floor = lab.floor.get(label(rate))
        ours = load.percentiles(outcome.latencies)
        if rate is not None:
            row.target = "p99 ≤ 1.5× floor, 0 non-2xx"
            if floor and ours:
                base = load.percentiles(floor.latencies)["p99"]
                row.figure = f"p99 {ratio(ours['p99'], base)} floor; " + row.figure
                row.met = ours["p99"] <= 1.5 * base and outcome.failed == 0
        else:
            row.target = "≥ 50 % of floor's req/s"
            if floor:
                row.figure = f"{outcome.rate / floor.rate:.0%} of floor's req/s; " + row.figure
                row.met = outcome.rate >= 0.5 * floor.rate and outcome.failed == 0
        row.figure = row.figure.rstrip("; ")
        lab.rows.append(row)
        lab.rows.append(cpu_row(name, rate, outcome, floor))


def _slow(lab: Lab) -> None:
    """The same pushes while the local Open API takes 5 s to answer PATCHes and messages."""
    assert lab.api is not None
    lab.api.fault("patch", "latency", seconds=SLOW_API_SECONDS)
    lab.api.fault("message", "latency", seconds=SLOW_API_SECONDS)
    try:
        with lab.bot() as server:
            for rate in (*RATES, None):
                outcome = lab.load(server.url, rate, lab.sizes.duration if rate else lab.sizes.saturation)
                row = ack_row(f"ack, Open API answering in {SLOW_API_SECONDS} s", rate, outcome)
                row.target = "p99 ≤ 1.5× fast API, 0 non-2xx"
                fast, ours = lab.fast.get(label(rate)), load.percentiles(outcome.latencies)
                if fast and ours:
                    base = load.percentiles(fast.latencies)["p99"]
                    row.figure = (f"p99 {ratio(ours['p99'], base)} fast API; " + row.figure).rstrip("; ")
                    row.met = ours["p99"] <= 1.5 * base and outcome.failed == 0
                lab.rows.append(row)
    finally:
        lab.api.clear_faults()


def _interactive(lab: Lab) -> None:
    """Sequential form submissions answered with the confirmation card in the callback response."""
    assert lab.api is not None
    lab.api.clear_faults()
    with lab.bot() as server:
        outcome, confirmed = load.submissions(server.url, lab.keys, lab.sizes.submissions)
    latency = load.percentiles(outcome.latencies)
    lab.rows.append(Row("form submit → confirmation card", f"{outcome.count} sequential, 10/s", latency,
                        outcome.failed, f"{confirmed} of {outcome.count} confirmed in the answer",
                        "p99 ≤ 100 ms", bool(latency) and latency["p99"] <= 0.1 and confirmed == outcome.count))


def _drain(lab: Lab) -> None:
    """A backlog of writes queued first, then drained under the shared rate limit; PATCHes timed by the Open API."""
    assert lab.api is not None
    lab.api.clear_faults()
    n = lab.sizes.backlog
    if lab.sizes.shared:  # quick: queue and drain at once on the shared bot
        with lab.bot() as server:
            lab.api.reset()
            pushed = lab.load(server.url, None, 600.0, limit=n, processes=2, threads=4)
            calls = patches(lab.api, n)
    else:
        database = lab.workdir / "drain.db"
        with procs.server(procs.BOT_APP, lab.workdir, "drain-queue", openapi_url=lab.api.url, database=database,
                          ASSESSBOT_RUNNER_THREADS=0) as queueing:
            pushed = lab.load(queueing.url, None, 600.0, limit=n, processes=2, threads=4)
        lab.api.reset()
        with procs.server(procs.BOT_APP, lab.workdir, "drain", openapi_url=lab.api.url, database=database):
            calls = patches(lab.api, n)
    lab.rows.append(drain_figures(f"backlog drain ({n} queued writes)", calls, n, pushed.failed))


def _memory(lab: Lab) -> None:
    """Start-up time and memory per process, with 1, 2 and 4 workers, after a short warm-up."""
    if lab.sizes.shared:
        _memory_at_once(lab)
        return
    bare = procs.import_seconds("lark_oapi", lab.sizes.import_runs)
    lab.rows.append(Row("bare `python -c \"import lark_oapi\"`", duration(bare), target="reference"))
    totals: dict[int, int] = {}
    for workers in sorted(lab.sizes.workers):
        with lab.start_bot(workers) as server:
            totals[workers] = _memory_row(lab, server, bare, totals)


def _memory_at_once(lab: Lab) -> None:
    """Quick mode: the shared bot resized with TTIN/TTOU, while the bare import is timed beside it."""
    with ThreadPoolExecutor(1) as pool:
        bare_run = pool.submit(procs.import_seconds, "lark_oapi", lab.sizes.import_runs)
        with lab.bot() as server:
            bare = bare_run.result()
            lab.rows.append(Row("bare `python -c \"import lark_oapi\"`", duration(bare), target="reference"))
            totals: dict[int, int] = {}
            for workers in (*sorted(lab.sizes.workers), 2):
                server.resize(workers)
                if workers not in totals:
                    totals[workers] = _memory_row(lab, server, bare, totals)


def _memory_row(lab: Lab, server: Gunicorn, bare: float, totals: dict[int, int]) -> int:
    lab.load(server.url, None, 60.0, limit=lab.sizes.warmup, processes=1, threads=4)
    time.sleep(0.5 if lab.sizes.shared else 3.0)  # let the job runners take their share of the work
    master = procs.memory(server.proc.pid)
    workers = [procs.memory(pid) for pid in server.worker_pids()]
    total = master[1] + sum(pss for _, pss in workers)
    worst = max((uss for uss, _ in workers), default=0)
    figure = (f"master USS {megabytes(master[0])}, PSS {megabytes(master[1])}; per worker USS ≤ {megabytes(worst)},"
              f" PSS ≈ {megabytes(sum(p for _, p in workers) / max(len(workers), 1))}; all PSS {megabytes(total)}")
    if 1 in totals and server.workers > 1:
        figure += f" (+{megabytes((total - totals[1]) / (server.workers - 1))} per worker beyond the first)"
    started_so = server.started_workers == server.workers
    ready = f"ready in {duration(server.ready_seconds)}" if started_so else f"resized from {server.started_workers}"
    lab.rows.append(Row(f"start-up and memory, {server.workers} worker{'s' if server.workers > 1 else ''}", ready,
                        {}, None, figure, "ready ≤ import + 1 s; worker USS ≤ 40 MB",
                        (server.ready_seconds <= bare + 1.0 or not started_so) and worst <= 40 * MB))
    return total


def _growth(lab: Lab) -> None:
    from benchmarks import growth

    growth.run(lab)


def _postgres(lab: Lab) -> None:
    from benchmarks import postgres

    postgres.run(lab)


SCENARIO_RUNS = {"memory": _memory, "floor": _floor, "ack": _ack, "worker": _worker, "slow": _slow,
                 "interactive": _interactive, "drain": _drain, "growth": _growth, "postgres": _postgres}

NOTES = [
    "**floor**: `benchmarks/floor.py` under the same gunicorn config — checks the signature, decrypts to read the "
    "event id, `INSERT OR IGNORE` in SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE), answers 200.",
    "**ack**: unique `/assess <new id> pass coding=4` messages, signed and encrypted as Feishu does, built before "
    "the clock starts; each commits a dedup record and a write job before its 200. Fixed rates are offered "
    "open-loop from 2 processes × 16 keep-alive connections and latency counts from when a request was due "
    "(no coordinated omission); \"sent … late\" is how late requests left the generator (p99): small, it kept "
    "up; large, all its connections were waiting on the server. Saturation is closed-loop, "
    "4 processes × 4 connections. Each scenario gets a fresh server and database (SQLite, in a temporary "
    "directory), the default job runner (4 threads per worker) and the local Open API in its own process, "
    "answering at once unless said otherwise.",
    "**job runner in its own process**: the same pushes to a bot whose web workers run no jobs "
    "(`ASSESSBOT_RUNNER_THREADS=0`), with `assessbot worker` (4 runner threads) on the same SQLite file.",
    f"**Open API answering in {SLOW_API_SECONDS} s**: the local Open API's `latency` fault on PATCH and messages; "
    "the job runners wait, acknowledgements must not.",
    "**form submit**: `card.action.trigger` callbacks with a signed submit value (`bot.auth.form_value`), one "
    "new assessment each, sent one at a time every 100 ms (under the 20-a-second PATCH limit); the time is "
    "the whole round trip, PATCH included. The first 3 (tenant token, first connections) are not counted.",
    "**backlog drain**: the writes are acknowledged by a bot without job runners, then a bot with the shipped "
    "settings starts on that database and drains them; PATCH times are those the local Open API saw (it "
    "refuses more than 20 in a sliding second with 429). ASSESSBOT_PATCH_RATE=20 per 1.02 s: a call starts "
    "only while fewer than 20 calls are in flight or ended within the last 1.02 s, which caps the drain a little "
    "under 20 a second (less the calls' round trip).",
    "**growth**: ack @ 50/s on a SQLite file filled before the bot starts (plain sqlite3, big transactions) with "
    "10^6 dedup records (`event:`/`message:` + 32 hex) and 10^5 finished `write` jobs (~300-byte payloads, one "
    "in twenty dead), all created within the last 7 days so nothing is purged; compared with the empty "
    "database's ack @ 50/s of the same run (measured here when the ack scenario did not run). The purge row "
    "fills the same counts 7 days and more ago: the bot purges them at its job runner's first turn (each "
    "worker, 500 rows a transaction, resting twice as long as a batch took between two), while the load "
    "starts as soon as it answers; the workers' `purged old records` log lines give the rows deleted, how "
    "long it took and how much of it overlapped the load, and the expired rows left are counted afterwards. "
    "The reminder scan (the job runner's poll for due jobs with a pending `remind` job for every interview "
    "still to come, plus the digest's `due()` of one person) and the `/todo` inbox (`Todo.handle`: its three "
    "queries and the card, not delivered) are timed 200 times in the benchmark's own process over 10^5 "
    "assignments of 2,000 interviewers (60 days past to 30 ahead; most past ones submitted), on SQLite and on "
    "the PostgreSQL server below when there is one.",
    "**PostgreSQL**: the ack rows at the fixed rates and the drain against the PostgreSQL server named by "
    "ASSESSBOT_BENCH_POSTGRES (default the local one, database `assessbot_bench`), emptied before each run; the "
    "drain is done by two bot instances (1 worker each) sharing that database. Skipped, with the reason, when "
    "there is no server.",
    "**start-up and memory**: from starting gunicorn to its first 200 on `/healthz`; USS (Private_Clean + "
    "Private_Dirty) and PSS from `/proc/<pid>/smaps_rollup` after a warm-up of writes and a few seconds of "
    "job running; \"per worker beyond the first\" is the growth of the summed PSS over the 1-worker figure.",
    "**met**: the row's target on this run; `--quick` (a few requests per scenario on one shared bot, resized "
    "with TTIN/TTOU for the memory rows) only shows that every row works, its figures mean little.",
]
