"""Commands pushed as Feishu pushes them while a database fault comes and goes, and the checks afterwards.

Each command is an `/assess` to an assessment of its own. It is delivered until it is answered 200 (a 503 or
no answer is re-pushed, backing off to 1 s), and once more some seconds after its first 200, as Feishu's
at-least-once delivery does. While that runs, /healthz and /readyz are polled. Afterwards the run is checked:
every command stored before it was acknowledged, one write job each, applied at the Open API, answered once.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import Gunicorn, wait_until
from bot.store import Store, jobs
from tests.support.processes import deliver, message

CODING = {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力"}


@dataclass
class Command:
    """One interviewer's `/assess` and what happened to its deliveries."""

    n: int
    sender: str
    score: int
    first_ok: float | None = None  # wall-clock time of the first 200

    @property
    def assessment_id(self) -> str:
        return str(6_940_000_000_000_000_000 + self.n)

    @property
    def message_id(self) -> str:
        return f"om_outage{self.n:026d}"

    def payload(self) -> dict:
        text = f'/assess {self.assessment_id} pass coding={self.score} comment="outage note {self.n}"'
        return message(text, message_id=self.message_id, event_id=f"ev_outage{self.n:024d}",
                                 sender=self.sender)

    def expected(self) -> dict:
        return {"conclusion": 2, "assessment_dimension_list": [{**CODING, "score": self.score}],
                "content": f"outage note {self.n}"}


@dataclass
class Report:
    """What one run saw; `problems` lists every broken promise."""

    commands: int = 0
    deliveries: int = 0
    statuses: dict = field(default_factory=dict)
    refused_while_down: int = 0
    healthz_failures: int = 0
    readyz_503: int = 0
    fault_seconds: float = 0.0
    ready_again_after_s: float | None = None
    drained_after_s: float | None = None
    patches: int = 0
    write_jobs: int = 0
    replies: int = 0
    jobs_by_status: dict = field(default_factory=dict)
    settled: bool = False
    master_alive: bool = True
    worker_restarts: int = 0
    log_lines: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def table(self) -> str:
        rows = [(name, value) for name, value in vars(self).items() if name != "problems"]
        width = max(len(name) for name, _ in rows)
        verdict = "OK" if not self.problems else "FAILED: " + "; ".join(self.problems)
        lines = [f"  {name:<{width}}  {value}" for name, value in rows]
        return "\n".join([*lines, f"  {'result':<{width}}  {verdict}"])


class Pusher:
    """Delivers the commands to the bot until each is acknowledged, then once more a little later."""

    def __init__(self, url: str, count: int, clients: int = 6, seed: int = 18):
        self.url, self.clients = url, clients
        rng = random.Random(seed)
        senders = [f"ou_outage{n:026d}" for n in range(10)]
        self.commands = [Command(n, rng.choice(senders), rng.randint(1, 5)) for n in range(count)]
        self.statuses: Counter = Counter()
        self.refused_at: list[float] = []
        self.lock = threading.Lock()
        self._late: list[tuple[float, int, Command]] = []
        self._order = itertools.count()
        self._sending = threading.Event()

    def run(self, seconds: float) -> None:
        """Send every command once over about `seconds`, each until a 200, and the later copies; wait for all."""
        self._sending.set()
        late = threading.Thread(target=self._repush_late, name="late-copies")
        late.start()
        pace = seconds * self.clients / len(self.commands)
        shares = [self.commands[n::self.clients] for n in range(self.clients)]
        try:
            with ThreadPoolExecutor(self.clients) as pool:
                list(pool.map(lambda share: self._send(share, pace), shares))
        finally:
            self._sending.clear()
            late.join()

    def _send(self, share: list[Command], pace: float) -> None:
        rng = random.Random(share[0].n)
        for command in share:
            time.sleep(rng.uniform(0, 2 * pace))
            self._until_ok(command, rng)
            with self.lock:
                heapq.heappush(self._late, (time.monotonic() + rng.uniform(0.5, 4.0), next(self._order), command))

    def _until_ok(self, command: Command, rng: random.Random) -> None:
        wait = 0.1
        while not self._deliver(command):
            time.sleep(rng.uniform(wait / 2, wait))
            wait = min(wait * 2, 1.0)

    def _deliver(self, command: Command) -> bool:
        status, _ = deliver(self.url, command.payload(), timeout=5.0)
        now = time.time()
        with self.lock:
            self.statuses[status] += 1
            if status == 200 and command.first_ok is None:
                command.first_ok = now
            if status != 200:
                self.refused_at.append(now)
        return status == 200

    def _repush_late(self) -> None:
        with ThreadPoolExecutor(8) as pool:
            while True:
                with self.lock:
                    due = self._late and (self._late[0][0] <= time.monotonic() or not self._sending.is_set())
                    item = heapq.heappop(self._late) if due else None
                    finished = not self._late and not self._sending.is_set()
                if item is not None:
                    pool.submit(self._until_ok, item[2], random.Random(item[1]))
                elif finished:
                    return
                else:
                    time.sleep(0.02)


class Probe:
    """Polls /healthz and /readyz every 0.1 s in the background."""

    def __init__(self, url: str):
        self.url = url
        self.healthz_failures = 0
        self.readyz: list[tuple[float, int | None]] = []  # (monotonic time, status)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="probe", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        import requests

        http = requests.Session()
        while not self._stop.wait(0.1):
            try:
                healthy = http.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                healthy = False
            self.healthz_failures += not healthy
            try:
                status: int | None = http.get(f"{self.url}/readyz", timeout=5).status_code
            except requests.RequestException:
                status = None
            self.readyz.append((time.monotonic(), status))

    def ready_after(self, since: float) -> float | None:
        """Seconds from `since` to the first 200 of /readyz after it."""
        return next((at - since for at, status in self.readyz if at >= since and status == 200), None)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def wait_drained(database_url: str, pusher: Pusher, api: OpenAPIProcess, timeout: float = 60.0) -> float:
    """Until no job is left and every command has its reply; the seconds it took."""
    started = time.monotonic()
    store = Store(database_url)
    try:
        def done() -> bool:
            replied = {m.get("parent_id") for m in api.messages() if m["sender"] == "app"}
            idle = store.settled()
            return idle and all(c.message_id in replied for c in pusher.commands)

        wait_until(done, timeout, 0.5, "every job done and every command answered")
    finally:
        store.dispose()
    return time.monotonic() - started


def check(report: Report, pusher: Pusher, api: OpenAPIProcess, web: Gunicorn, database_url: str,
          workers_before: set[int], fault: tuple[float, float]) -> Report:
    """Fill in the report from the Open API, the database and the bot's log, and list what went wrong."""
    time.sleep(1.0)  # a reply sent twice would have landed by now
    commands = pusher.commands
    report.commands = len(commands)
    report.deliveries = sum(pusher.statuses.values())
    report.statuses = {str(k): v for k, v in sorted(pusher.statuses.items(), key=lambda kv: str(kv[0]))}
    report.refused_while_down = sum(fault[0] <= at <= fault[1] + 6.0 for at in pusher.refused_at)
    report.patches = len(api.calls("patch"))
    state = api.assessments()
    mismatched = sum({k: state.get(c.assessment_id, {}).get(k) for k in c.expected()} != c.expected()
                     for c in commands)
    replies = Counter(m.get("parent_id") for m in api.messages() if m["sender"] == "app")
    report.replies = sum(replies.values())
    store = Store(database_url)
    try:
        with store.transaction() as conn:
            rows = conn.execute(jobs.select().with_only_columns(jobs.c.payload, jobs.c.created_at, jobs.c.status)
                                .where(jobs.c.kind == "write")).all()
        report.jobs_by_status = dict(Counter(r.status for r in rows))  # the writes; other kinds: `settled`
        report.settled = store.settled()
    finally:
        store.dispose()
    created: dict[str, list[float]] = {}
    for payload, at, _ in rows:
        created.setdefault(json.loads(payload)["target"]["message_id"], []).append(at)
    report.write_jobs = len(rows)
    acked_unstored = [c.n for c in commands if c.first_ok is None or not created.get(c.message_id)
                      or min(created[c.message_id]) > c.first_ok]
    report.master_alive = web.proc.poll() is None
    report.worker_restarts = len(set(web.worker_pids()) - workers_before)
    log = Path(web.log_path).read_text(encoding="utf-8", errors="replace")
    report.log_lines = {"database unavailable": len(re.findall(r"database unavailable: pushes", log)),
                        "database available again": log.count("database available again"),
                        "not acknowledged": log.count("not acknowledged: the database is unavailable"),
                        "tracebacks": log.count("Traceback"), "handler failed": log.count("handler failed"),
                        "job raised": log.count("job raised")}
    checks = [
        (not acked_unstored, f"{len(acked_unstored)} commands answered 200 before they were stored"),
        (all(len(created.get(c.message_id, [])) == 1 for c in commands), "a command without exactly one write job"),
        (mismatched == 0, f"{mismatched} assessments differ from their command"),
        (all(replies[c.message_id] == 1 for c in commands), "a command not answered exactly once"),
        (report.jobs_by_status == {"done": report.write_jobs}, f"write jobs left {report.jobs_by_status}"),
        (report.settled, "jobs owed or due soon after the drain"),
        (report.master_alive, "the gunicorn master stopped"),
        (report.worker_restarts == 0, f"{report.worker_restarts} workers restarted"),
        (report.healthz_failures == 0, f"/healthz failed {report.healthz_failures} times"),
        (report.log_lines["tracebacks"] == 0, f"{report.log_lines['tracebacks']} tracebacks logged"),
    ]
    report.problems = [problem for ok, problem in checks if not ok]
    return report


def run(web: Gunicorn, api: OpenAPIProcess, database_url: str, fault: Callable[[], None],
        *, commands: int = 200, send_seconds: float = 14.0, fault_at: float = 3.0) -> Report:
    """Push `commands` while `fault()` runs from `fault_at` seconds in (it returns when the fault is over)."""
    pusher, probe = Pusher(web.url, commands), Probe(web.url)
    workers_before = set(web.worker_pids())
    window = [0.0, 0.0]
    ended = [0.0]

    def inject() -> None:
        time.sleep(fault_at)
        window[0] = time.time()
        fault()
        window[1], ended[0] = time.time(), time.monotonic()

    injector = threading.Thread(target=inject, name="fault")
    injector.start()
    try:
        pusher.run(send_seconds)
    finally:
        injector.join()
    report = Report(fault_seconds=round(window[1] - window[0], 1))
    wait_drained(database_url, pusher, api)
    report.drained_after_s = round(time.monotonic() - ended[0], 1)  # from the end of the fault
    probe.stop()
    ready = probe.ready_after(ended[0])
    report.ready_again_after_s = None if ready is None else round(ready, 2)
    report.readyz_503 = sum(status == 503 for _, status in probe.readyz)
    report.healthz_failures = probe.healthz_failures
    return check(report, pusher, api, web, database_url, workers_before, (window[0], window[1]))
