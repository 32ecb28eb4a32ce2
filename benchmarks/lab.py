"""The lab the benchmark scenarios share: sizes, the working directory with the local Open API, the results so
far, and the helpers that turn a run into a row of the table."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import load, procs
from benchmarks.report import Row, duration
from bot.sandbox.processes import Gunicorn

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

    def load(self, url: str, rate: float | None, seconds: float, server: Gunicorn | None = None,
             **plan: object) -> load.Outcome:
        """Offer `rate` requests a second (None: saturate) for `seconds`; with `server`, the CPU its processes
        (master and workers) used meanwhile, read from /proc."""
        shape = {"processes": 2, "threads": 16} if rate is not None else {"processes": 4, "threads": 4}
        if self.sizes.shared:
            shape["processes"] = 1  # quick: starting generator processes would take longer than the run
        pids = [server.proc.pid, *server.worker_pids()] if server is not None else []
        before = procs.cpu_seconds(pids)
        outcome = load.run(load.Plan(url, self.keys, load.unique_tag(), seconds, rate, **{**shape, **plan}))
        if server is not None:
            outcome.cpu = procs.cpu_seconds(pids) - before
        return outcome


def label(rate: float | None) -> str:
    return f"{rate:g}/s" if rate is not None else "saturation"


def ack_row(name: str, rate: float | None, outcome: load.Outcome) -> Row:
    lags = load.percentiles(outcome.lags)
    note = f"; sent ≤ {duration(lags['p99'])} late (p99)" if lags else ""
    if outcome.exhausted:
        note += "; ran out of prepared requests"
    return Row(f"{name} @ {label(rate)}", f"{outcome.rate:,.0f} req/s", load.percentiles(outcome.latencies),
               outcome.failed, note.removeprefix("; "))


def cpu_row(name: str, rate: float | None, ours: load.Outcome, floor: load.Outcome | None) -> Row:
    """CPU seconds the server's processes spent per acknowledgement (from /proc), beside the floor's."""
    mine, base = ours.cpu_per_request, floor.cpu_per_request if floor is not None else None
    figure = f"{mine * 1000:.2f} ms of CPU per ack" if mine is not None else "—"
    note = f"floor {base * 1000:.2f} ms; {mine / base:.2f}× floor" if mine and base else ""
    return Row(f"{name}, CPU per ack @ {label(rate)}", figure, {}, None, note, "≤ 1.5× floor's",
               (mine <= 1.5 * base) if mine and base else None)


def ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}×" if base > 0 else "—"


def drain_figures(name: str, calls: list[dict], n: int, failed: int) -> Row:
    """The drain row from the PATCHes the local Open API saw: rate, busiest second, refusals."""
    times = sorted(c["monotonic"] for c in calls)[:n]
    refused = sum(1 for c in calls[:n] if c["status"] == 429)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    busiest = max((in_window(times, i) for i in range(len(times))), default=0)
    return Row(name, f"{rate:.1f} PATCH/s", {}, failed,
               f"{len(times)} PATCHes; at most {busiest} in any 1 s; {refused} refused (429)",
               "≥ 18.5 PATCH/s, ≤ 20 in any 1 s, 0 × 429",
               len(times) == n and rate >= 18.5 and busiest <= 20 and refused == 0)


def patches(api: procs.OpenAPIProcess, n: int) -> list[dict]:
    """The PATCHes the local Open API has seen, once there are `n` (or after a generous wait)."""
    deadline = time.monotonic() + n / 10 + 60
    while True:
        calls = api.calls("patch")
        if len(calls) >= n or time.monotonic() > deadline:
            return calls
        time.sleep(1.0)


def in_window(times: list[float], i: int) -> int:
    """How many of the sorted `times` fall in the second starting at times[i]."""
    j = i
    while j < len(times) and times[j] < times[i] + 1.0:
        j += 1
    return j - i
