"""Costs that stay flat as the database grows: acknowledgements beside a week of dedup records and finished jobs,
acknowledgements while a week's worth of them is purged, and the reminder scan and the /todo inbox over many
assignments.

The acknowledgement rows fill a SQLite file (plain sqlite3, big transactions) before the bot starts on it; the
bot purges at its job runner's first turn, so the purge row's load starts as soon as the bot answers, and the
bot's own log says how long the purge took. The schedule rows are timed in this process, on SQLite and, when
benchmarks/postgres.py finds a server, on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmarks import load, postgres, procs
from benchmarks.lab import ack_row
from benchmarks.report import Row, duration
from bot import rubric
from bot.commands.base import Request
from bot.commands.todo import Todo
from bot.services import Context
from bot.settings import Settings
from bot.store import Store, jobs, new_owner_id
from bot.store.schedule import external_id
from bot.store.schema import assignments

if TYPE_CHECKING:
    from benchmarks.lab import Lab
    from bot.services import FeishuApi

RATE = 50
DAY = 24 * 3600.0
TTL = 7 * DAY  # the shipped ASSESSBOT_DEDUP_TTL_SECONDS and ASSESSBOT_JOB_TTL_SECONDS
FILL_CHUNK = 50_000  # rows per transaction while filling
PURGE_PATIENCE = 180.0  # seconds to wait after the load for the bot's workers to finish their purges
SCHEDULE_LIMIT = 0.05  # seconds: the reminder scan and the inbox, p99


def run(lab: Lab) -> None:
    """The growth rows: ack with a full database, ack during a purge, the reminder scan and the inbox."""
    assert lab.api is not None
    lab.api.clear_faults()
    reference = lab.fast.get(f"{RATE}/s")
    if reference is None or not reference.latencies:  # the ack scenario did not run: measure its 50/s here
        with lab.bot() as server:
            reference = lab.load(server.url, RATE, lab.sizes.duration)
        row = ack_row("ack, empty database", RATE, reference)
        row.target = "reference"
        lab.rows.append(row)
    empty = _p99(reference)
    kept = _kept(lab, empty)
    _purging(lab, kept or empty)
    _schedule(lab, f"sqlite:///{lab.workdir / 'growth-schedule.db'}", "")
    reason = postgres.unreachable()
    if reason:
        lab.rows.append(Row("schedule rows, PostgreSQL", "skipped", {}, None, reason, "—", None))
    else:
        postgres.fresh()
        _schedule(lab, postgres.URL, ", PostgreSQL")


def _p99(outcome: load.Outcome) -> float | None:
    return load.percentiles(outcome.latencies).get("p99")


def _ratio(ours: float | None, base: float | None, what: str) -> str:
    return f"p99 {ours / base:.2f}× {what}" if ours and base else ""


def _kept(lab: Lab, empty: float | None) -> float | None:
    """Acknowledgements beside a week of dedup records and finished jobs, all within their TTL; its p99."""
    assert lab.api is not None
    records, finished = lab.sizes.dedup_records, lab.sizes.finished_jobs
    path = lab.workdir / "growth-kept.db"
    filled = fill_outbox(path, records, finished, newest=time.time() - 60, span=TTL - DAY / 2)
    with procs.server(procs.BOT_APP, lab.workdir, "growth-kept", openapi_url=lab.api.url, database=path) as bot:
        outcome = lab.load(bot.url, RATE, lab.sizes.duration)
        purged = _purges(bot.log_path, wait_for=bot.workers)
    row = ack_row(f"ack, {records:,} dedup records and {finished:,} finished jobs stored", RATE, outcome)
    ours = _p99(outcome)
    row.figure = "; ".join(part for part in (
        _ratio(ours, empty, "empty database"), f"filled in {duration(filled)}",
        f"purge at start found nothing in {duration(purged.seconds)}" if purged.entries and not purged.deleted
        else "", row.figure) if part)
    row.target = "p99 ≤ 1.2× empty database, 0 non-2xx"
    if ours and empty:
        row.met = ours <= 1.2 * empty and outcome.failed == 0
    lab.rows.append(row)
    return ours


def _purging(lab: Lab, without: float | None) -> None:
    """Acknowledgements while the bot purges a week of expired dedup records and jobs, started with the load."""
    assert lab.api is not None
    records, finished = lab.sizes.dedup_records, lab.sizes.finished_jobs
    path = lab.workdir / "growth-purge.db"
    now = time.time()
    filled = fill_outbox(path, records, finished, newest=now - TTL - 3600, span=TTL - 2 * 3600)
    with procs.server(procs.BOT_APP, lab.workdir, "growth-purge", openapi_url=lab.api.url, database=path) as bot:
        outcome = lab.load(bot.url, RATE, lab.sizes.duration)
        load_end = time.time()
        purged = _purges(bot.log_path, wait_for=bot.workers)
    load_start = load_end - outcome.elapsed
    left = _expired_left(path, now - TTL)
    row = ack_row(f"ack during the purge of {records:,} expired dedup records and {finished:,} expired jobs",
                  RATE, outcome)
    overlap = max(0.0, min(purged.end, load_end) - max(purged.end - purged.seconds, load_start))
    ours = _p99(outcome)
    row.figure = "; ".join(part for part in (
        _ratio(ours, without, "without a purge"),
        f"purge deleted {purged.deleted:,} rows in {duration(purged.seconds)}, {duration(overlap)} of it "
        f"during the {duration(outcome.elapsed)} load" if purged.entries else "no purge logged",
        f"{left:,} expired rows left", f"filled in {duration(filled)}", row.figure) if part)
    row.target = "p99 ≤ 1.5× without a purge, 0 non-2xx"
    if ours and without and overlap > 0:  # a purge that ended before the load measured nothing
        row.met = ours <= 1.5 * without and outcome.failed == 0 and left == 0
    lab.rows.append(row)


# -- filling an outbox -----------------------------------------------------------------------------------------

def fill_outbox(path: Path, records: int, finished: int, newest: float, span: float) -> float:
    """A fresh SQLite database at `path` holding `records` dedup records and `finished` finished write jobs, their
    times spread over the `span` seconds up to `newest`; the seconds it took."""
    started = time.monotonic()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.dispose()
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")  # a benchmark's fill: no need to survive a power cut
        _insert(db, "INSERT INTO processed_keys (key, created_at) VALUES (?, ?)", _dedup_rows(records, newest, span))
        _insert(db, "INSERT INTO jobs (kind, assessment_key, version, payload, status, stage, attempts, run_after, "
                "lease_until, lease_owner, last_error, log_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _job_rows(finished, newest, span))
    finally:
        db.close()
    return time.monotonic() - started


def _insert(db: sqlite3.Connection, sql: str, rows: Iterable[tuple]) -> None:
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, FILL_CHUNK)):
        with db:
            db.executemany(sql, chunk)


def _hex(rand: random.Random) -> str:
    return f"{rand.getrandbits(128):032x}"


def _dedup_rows(n: int, newest: float, span: float) -> Iterator[tuple[str, float]]:
    """What acknowledgements leave: `event:<32 hex>` and `message:om_<32 hex>`, in time order."""
    rand = random.Random(1)
    for i in range(n):
        yield (f"event:{_hex(rand)}" if i % 2 == 0 else f"message:om_{_hex(rand)}"), newest - span + span * i / n


def _job_rows(n: int, newest: float, span: float) -> Iterator[tuple]:
    """Finished write jobs as a week of `/assess` leaves them: mostly done, one in twenty dead."""
    rand = random.Random(2)
    for i in range(n):
        at = newest - span + span * i / n
        event, message = _hex(rand), f"om_{_hex(rand)}"
        payload = json.dumps({
            "submission": {"conclusion": "pass", "scores": {"coding": 4}, "comment": None},
            "actor": f"ou_{_hex(rand)}", "actor_name": "Bench Interviewer",
            "target": {"type": "reply", "message_id": message, "source": message}, "via": "message",
            "event_id": event})
        dead = i % 20 == 0
        yield ("write", f"7{i:018d}", 1, payload, "dead" if dead else "done", "start", 5 if dead else 1, at, None,
               _hex(rand), "Feishu 99991400: rate limited" if dead else None, None, at, at + 2.0)


class _Purged:
    """What the bot's workers logged of their purges: rows deleted, the longest one, when the last ended."""

    def __init__(self, entries: list[dict]):
        self.entries = entries
        self.deleted = sum(sum(e.get("purged", {}).values()) for e in entries)
        self.seconds = max((float(e.get("seconds", 0.0)) for e in entries), default=0.0)
        self.end = max((datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
                        for e in entries), default=0.0)


def _purges(log: Path, wait_for: int = 0, patience: float = PURGE_PATIENCE) -> _Purged:
    """The purges in a bot's log (JSON lines), once `wait_for` of them are there (or after `patience` seconds)."""
    deadline = time.monotonic() + patience
    while True:
        entries = []
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "purged old records" in line:
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line))
        if len(entries) >= wait_for or time.monotonic() > deadline:
            return _Purged(entries)
        time.sleep(0.5)


def _expired_left(path: Path, cutoff: float) -> int:
    db = sqlite3.connect(path)
    try:
        return sum(db.execute(sql, (cutoff,)).fetchone()[0] for sql in (
            "SELECT count(*) FROM processed_keys WHERE created_at < ?",
            "SELECT count(*) FROM jobs WHERE updated_at < ? AND status IN ('done', 'dead', 'discarded')"))
    finally:
        db.close()


# -- the schedule: reminder scan and inbox, in this process ---------------------------------------------------

def _schedule(lab: Lab, url: str, suffix: str) -> None:
    """The reminder scan and the /todo inbox over a large schedule, `repeats` times each."""
    n, repeats = lab.sizes.assignments, lab.sizes.repeats
    if url.startswith("sqlite:///"):
        for end in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + end).unlink(missing_ok=True)
    store = Store(url)
    try:
        store.create_schema()
        now = time.time()
        started = time.monotonic()
        person, waiting = fill_schedule(store, n, lab.sizes.interviewers, now)
        filled = time.monotonic() - started
        owner = new_owner_id()

        def poll() -> None:
            if store.claim(owner, 60.0) is not None:
                raise RuntimeError("a reminder was due: the schedule plans every reminder ahead")

        claims = _timed(poll, repeats)
        dues = _timed(lambda: store.due(person, now), repeats)
        scan = array("d", (a + b for a, b in zip(claims, dues, strict=True)))
        p99 = {name: load.percentiles(times)["p99"] for name, times in (("claim", claims), ("due", dues))}
        lab.rows.append(_schedule_row(
            f"reminder scan over {n:,} assignments{suffix}", scan, repeats,
            f"{waiting:,} reminders planned ahead; the runner's poll for due ones p99 {duration(p99['claim'])}, "
            f"the digest's list of one person's due feedback p99 {duration(p99['due'])}; filled in "
            f"{duration(filled)}"))
        ctx = _context(store, lambda: now)
        todo = Todo()
        request = Request(ctx, person, "bench-todo")
        card = todo.handle(request).jobs[0].payload.card
        lab.rows.append(_schedule_row(
            f"/todo inbox over {n:,} assignments{suffix}", _timed(lambda: todo.handle(request), repeats), repeats,
            f"the person has {len(range(0, n, lab.sizes.interviewers))} assignments; card of "
            f"{len(json.dumps(card, ensure_ascii=False).encode()):,} bytes; queries and card, no delivery"))
    finally:
        store.dispose()


def _schedule_row(name: str, times: array, repeats: int, figure: str) -> Row:
    latency = load.percentiles(times)
    return Row(name, f"{repeats} in a row", latency, None, figure, "p99 ≤ 50 ms",
               bool(latency) and latency["p99"] <= SCHEDULE_LIMIT)


def _timed(call: Callable[[], object], repeats: int) -> array:
    """Seconds each of `repeats` calls took, after a few untimed ones (connections, caches)."""
    for _ in range(3):
        call()
    times = array("d")
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _context(store: Store, clock: Callable[[], float]) -> Context:
    """What a command unit is given, on `store`; no Open API (the inbox is only built, not delivered)."""
    settings = Settings(_env_file=None, feishu_app_id=procs.APP_ID, feishu_app_secret=procs.APP_SECRET,
                        feishu_verification_token=procs.TOKEN, feishu_encrypt_key=procs.ENCRYPT_KEY,
                        database_url=store.url, assessbot_runner_threads=0)
    return Context(settings=settings, rubric=rubric.load(settings.assessbot_rubric), store=store,
                   feishu=cast("FeishuApi", None), clock=clock)


def _interviewer(k: int) -> str:
    return f"ou_{k:032x}"


def fill_schedule(store: Store, n: int, people: int, now: float) -> tuple[str, int]:
    """`n` assignments spread over `people` interviewers, from 60 days ago to 30 days ahead: most of those ended
    submitted, some stopped, some still owed (reminded already); each one to come with its reminder planned
    (`remind_at` and a pending `remind` job). The interviewer whose inbox is timed, and the reminders planned."""
    rand = random.Random(3)
    rows, planned = [], []
    for i in range(n):
        start = now + rand.uniform(-60 * DAY, 30 * DAY)
        end = start + 3600
        ext = external_id(f"{7_000_000_000_000_000_000 + i}", _interviewer(i % people))
        row = {"id": i + 1, "interview_id": f"{7_000_000_000_000_000_000 + i}", "interviewer": _interviewer(i % people),
               "key": ext, "feishu_assessment_id": None, "external_id": ext, "candidate": f"Candidate {i:06d}",
               "position": "Backend Engineer", "round": f"Round {1 + i % 3}", "start_at": start, "end_at": end,
               "recruiter": _interviewer(people + i % 50), "application_id": f"{6_000_000_000_000_000_000 + i // 3}",
               "remind_at": None, "first_reminded_at": None, "submitted_at": None, "stopped": None,
               "escalated_at": None, "created_at": min(start, now) - 7 * DAY, "updated_at": min(start, now) - DAY}
        if end > now:
            row["remind_at"] = end + 1800
            planned.append({"kind": "remind", "assessment_key": None, "version": None,
                            "payload": json.dumps({"assignment": i + 1, "at": end + 1800}), "status": "pending",
                            "stage": "start", "attempts": 0, "run_after": end + 1800, "lease_until": None,
                            "lease_owner": None, "last_error": None, "log_id": None, "created_at": row["created_at"],
                            "updated_at": row["created_at"]})
        else:
            fate = rand.random()
            if fate < 0.85:
                row["submitted_at"] = min(end + rand.uniform(600, 2 * DAY), now - 60)
                row["feishu_assessment_id"] = f"7{i:018d}"
            elif fate < 0.9:
                row["stopped"] = "not_mine"
            else:
                row["first_reminded_at"] = end + 1800
        rows.append(row)
    for table, chunk_rows in ((assignments, rows), (jobs, planned)):
        for first in range(0, len(chunk_rows), 5000):
            with store.transaction() as conn:
                conn.execute(table.insert(), chunk_rows[first:first + 5000])
    return _interviewer(0), len(planned)
