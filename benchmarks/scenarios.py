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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks import load, procs, report
from benchmarks.report import Row, duration, megabytes
from bot.processes import Gunicorn

# the table's order
SCENARIOS = ("floor", "ack", "worker", "slow", "interactive", "drain", "growth", "postgres", "memory")
# start-ups first
RUN_ORDER = ("memory", "floor", "interactive", "drain", "ack", "worker", "growth", "slow", "postgres")
RATES = (50, 200)
SLOW_API_SECONDS = 5
MB = 2**20


@dataclass(frozen=True)
class Sizes:
    """How much each scenario does: the full run, or a few requests each for the test suite (--quick)."""

    duration: float = 30.0  # each fixed-rate run
    saturation: float = 10.0
    submissions: int = 200
    backlog: int = 1000
    warmup: int = 400
    workers: tuple[int, ...] = (1, 2, 4)
    shared: bool = False  # one bot server for every scenario (quick mode: start-ups dominate otherwise)
    import_runs: int = 3
    dedup_records: int = 1_000_000  # growth: a week of acknowledgements' dedup records
    finished_jobs: int = 100_000  # growth: a week of finished jobs
    assignments: int = 100_000  # growth: the schedule the reminder scan and the inbox read
    interviewers: int = 2000
    repeats: int = 200  # growth: timed calls of the reminder scan and of the inbox


QUICK = Sizes(duration=0.5, saturation=0.5, submissions=5, backlog=25, warmup=20, shared=True, import_runs=1,
              dedup_records=10_000, finished_jobs=1000, assignments=1000, interviewers=20, repeats=20)


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


# -- the lab: processes and results shared by the scenarios -------------------------------------------------

@dataclass
class Lab:
    """The working directory, the local Open API, the results so far, and (quick mode) one shared bot."""

    workdir: Path
    sizes: Sizes
    rows: list[Row] = field(default_factory=list)
    floor: dict[str, load.Outcome] = field(default_factory=dict)
    fast: dict[str, load.Outcome] = field(default_factory=dict)
    api: procs.OpenAPIProcess | None = None
    _shared: Gunicorn | None = None
    _names: Iterator[int] = field(default_factory=lambda: iter(range(1, 1000)))

    def __enter__(self) -> Lab:
        self.api = procs.OpenAPIProcess(self.workdir, patch_rate_limit=20)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._shared is not None:
            self._shared.stop()
        if self.api is not None:
            self.api.stop()

    @property
    def keys(self) -> load.Keys:
        return load.Keys(procs.ENCRYPT_KEY, procs.TOKEN)

    def start_bot(self, workers: int = 2) -> Gunicorn:
        assert self.api is not None
        return procs.server(procs.BOT_APP, self.workdir, f"bot{next(self._names)}", openapi_url=self.api.url,
                            workers=workers)

    @contextlib.contextmanager
    def bot(self) -> Iterator[Gunicorn]:
        """A bot under the shipped gunicorn config: fresh (and a fresh database) unless sizes.shared."""
        if self.sizes.shared:
            if self._shared is None:
                self._shared = self.start_bot()
            yield self._shared
            return
        with self.start_bot() as server:
            yield server

    def load(self, url: str, rate: float | None, seconds: float, **plan: object) -> load.Outcome:
        """Offer `rate` requests a second (None: saturate) for `seconds`."""
        shape = {"processes": 2, "threads": 16} if rate is not None else {"processes": 4, "threads": 4}
        if self.sizes.shared:
            shape["processes"] = 1  # quick: starting generator processes would take longer than the run
        return load.run(load.Plan(url, self.keys, load.unique_tag(), seconds, rate, **{**shape, **plan}))


def _label(rate: float | None) -> str:
    return f"{rate:g}/s" if rate is not None else "saturation"


def _ack_row(name: str, rate: float | None, outcome: load.Outcome) -> Row:
    lags = load.percentiles(outcome.lags)
    note = f"; sent ≤ {duration(lags['p99'])} late (p99)" if lags else ""
    if outcome.exhausted:
        note += "; ran out of prepared requests"
    return Row(f"{name} @ {_label(rate)}", f"{outcome.rate:,.0f} req/s", load.percentiles(outcome.latencies),
               outcome.failed, note.removeprefix("; "))


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}×" if base > 0 else "—"


# -- scenarios --------------------------------------------------------------------------------------------

def _floor(lab: Lab) -> None:
    """The minimal app under the same gunicorn settings: the reference for the acknowledgement rows."""
    from benchmarks.floor import gunicorn_config

    config = gunicorn_config(procs.GUNICORN_CONF, lab.workdir)
    with procs.server(procs.FLOOR_APP, lab.workdir, "floor", config=config) as server:
        for rate in (*RATES, None):
            outcome = lab.load(server.url, rate, lab.sizes.duration if rate else lab.sizes.saturation)
            lab.floor[_label(rate)] = outcome
            row = _ack_row("floor: signature + INSERT", rate, outcome)
            row.target = "reference"
            lab.rows.append(row)


def _ack(lab: Lab) -> None:
    """`/assess <new id> pass coding=4` pushes: each commits a dedup record and a write job before the 200."""
    assert lab.api is not None
    lab.api.clear_faults()
    with lab.bot() as server:
        _ack_rows(lab, "ack", server.url, lab.fast)


def _worker(lab: Lab) -> None:
    """The same pushes with the job runner in a process of its own (`assessbot worker`) and none in the web
    workers: jobs then share the machine's cores with acknowledgements, but not a Python interpreter."""
    assert lab.api is not None
    lab.api.clear_faults()
    with (procs.server(procs.BOT_APP, lab.workdir, "worker-web", openapi_url=lab.api.url,
                       ASSESSBOT_RUNNER_THREADS=0) as server,  # on a fresh worker-web.db
          procs.worker(lab.workdir, "worker", openapi_url=lab.api.url, database=lab.workdir / "worker-web.db")):
        _ack_rows(lab, "ack, job runner in its own process (`assessbot worker`)", server.url, {})


def _ack_rows(lab: Lab, name: str, url: str, outcomes: dict) -> None:
    """The fixed-rate and saturation rows of acknowledgements against `url`, each beside the floor's."""
    for rate in (*RATES, None):
        outcome = lab.load(url, rate, lab.sizes.duration if rate else lab.sizes.saturation)
        outcomes[_label(rate)] = outcome
        row = _ack_row(name, rate, outcome)
        floor = lab.floor.get(_label(rate))
        ours = load.percentiles(outcome.latencies)
        if rate is not None:
            row.target = "p99 ≤ 1.5× floor, 0 non-2xx"
            if floor and ours:
                base = load.percentiles(floor.latencies)["p99"]
                row.figure = f"p99 {_ratio(ours['p99'], base)} floor; " + row.figure
                row.met = ours["p99"] <= 1.5 * base and outcome.failed == 0
        else:
            row.target = "≥ 50 % of floor's req/s"
            if floor:
                row.figure = f"{outcome.rate / floor.rate:.0%} of floor's req/s; " + row.figure
                row.met = outcome.rate >= 0.5 * floor.rate and outcome.failed == 0
        row.figure = row.figure.rstrip("; ")
        lab.rows.append(row)


def _slow(lab: Lab) -> None:
    """The same pushes while the local Open API takes 5 s to answer PATCHes and messages."""
    assert lab.api is not None
    lab.api.fault("patch", "latency", seconds=SLOW_API_SECONDS)
    lab.api.fault("message", "latency", seconds=SLOW_API_SECONDS)
    try:
        with lab.bot() as server:
            for rate in (*RATES, None):
                outcome = lab.load(server.url, rate, lab.sizes.duration if rate else lab.sizes.saturation)
                row = _ack_row(f"ack, Open API answering in {SLOW_API_SECONDS} s", rate, outcome)
                row.target = "p99 ≤ 1.5× fast API, 0 non-2xx"
                fast, ours = lab.fast.get(_label(rate)), load.percentiles(outcome.latencies)
                if fast and ours:
                    base = load.percentiles(fast.latencies)["p99"]
                    row.figure = (f"p99 {_ratio(ours['p99'], base)} fast API; " + row.figure).rstrip("; ")
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
            calls = _patches(lab.api, n)
    else:
        database = lab.workdir / "drain.db"
        with procs.server(procs.BOT_APP, lab.workdir, "drain-queue", openapi_url=lab.api.url, database=database,
                          ASSESSBOT_RUNNER_THREADS=0) as queueing:
            pushed = lab.load(queueing.url, None, 600.0, limit=n, processes=2, threads=4)
        lab.api.reset()
        with procs.server(procs.BOT_APP, lab.workdir, "drain", openapi_url=lab.api.url, database=database):
            calls = _patches(lab.api, n)
    lab.rows.append(_drain_figures(f"backlog drain ({n} queued writes)", calls, n, pushed.failed))


def _drain_figures(name: str, calls: list[dict], n: int, failed: int) -> Row:
    """The drain row from the PATCHes the local Open API saw: rate, busiest second, refusals."""
    times = sorted(c["monotonic"] for c in calls)[:n]
    refused = sum(1 for c in calls[:n] if c["status"] == 429)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    busiest = max((_in_window(times, i) for i in range(len(times))), default=0)
    return Row(name, f"{rate:.1f} PATCH/s", {}, failed,
               f"{len(times)} PATCHes; at most {busiest} in any 1 s; {refused} refused (429)",
               "≥ 18.5 PATCH/s, ≤ 20 in any 1 s, 0 × 429",
               len(times) == n and rate >= 18.5 and busiest <= 20 and refused == 0)


def _patches(api: procs.OpenAPIProcess, n: int) -> list[dict]:
    """The PATCHes the local Open API has seen, once there are `n` (or after a generous wait)."""
    deadline = time.monotonic() + n / 10 + 60
    while True:
        calls = api.calls("patch")
        if len(calls) >= n or time.monotonic() > deadline:
            return calls
        time.sleep(1.0)


def _in_window(times: list[float], i: int) -> int:
    """How many of the sorted `times` fall in the second starting at times[i]."""
    j = i
    while j < len(times) and times[j] < times[i] + 1.0:
        j += 1
    return j - i


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

    growth.run(lab, _ack_row)


def _postgres(lab: Lab) -> None:
    from benchmarks import postgres

    postgres.run(lab, _ack_row, _drain_figures)


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
    "refuses more than 20 in a sliding second with 429). ASSESSBOT_PATCH_RATE=20 per 1.08 s caps it at 18.5 a "
    "second; slots are at least 50 ms apart (never a burst) and reserved ahead, each caller sleeping until its own.",
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
