"""One crash run against one database: the senders, the killer, the fault injector, and the checks."""

from __future__ import annotations

import heapq
import itertools
import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.crash.databases import jobs_frozen, postgres_database
from benchmarks.crash.plan import ENCRYPT_KEY, Command, Config, Summary, bot_env, plan
from bot.sandbox import processes
from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import Gunicorn
from bot.sandbox.push import deliver
from bot.store import Store, jobs


class CrashRun:
    """One run against one database: the senders, the killer, the fault injector, and the checks."""

    def __init__(self, config: Config, workdir: Path, database_url: str, label: str):
        self.config, self.workdir, self.database_url = config, workdir, database_url
        self.rng = random.Random(config.seed)
        self.chains = plan(config, self.rng)
        self.commands = [c for chain in self.chains for c in chain]
        self.summary = Summary(label, f"{config.instances} × 2 workers", events=len(self.commands),
                               assessments=len(self.chains))
        self.lock = threading.Lock()
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds) of each 200
        self.held: list[tuple[float, float]] = []  # jobs table held, or no worker up: (from, to)
        self.statuses: Counter = Counter()
        self.late: list[tuple[float, int, Command]] = []  # re-pushes due later: (when, tiebreak, command)
        self.sequence = itertools.count()
        self.sending = threading.Event()
        self.stop_killing = threading.Event()
        self.deadline = 0.0
        self.api: OpenAPIProcess
        self.web: list[Gunicorn] = []

    # -- the run ---------------------------------------------------------------------------------------------

    def run(self) -> Summary:
        cfg = self.config
        send_seconds = cfg.send_seconds or max(10.0, cfg.events / 25)
        with ExitStack() as stack:
            self.api = stack.enter_context(OpenAPIProcess(self.workdir, patch_rate_limit=20))
            env = bot_env(self.api.url, self.database_url)
            for n in range(cfg.instances):  # one after the other: the first creates the schema
                self.web.append(stack.enter_context(Gunicorn(env, self.workdir, f"web{n + 1}")))
            started = time.monotonic()
            self.deadline = started + send_seconds * 4 + 120
            self.sending.set()
            helpers = [threading.Thread(target=self._kill, args=(send_seconds,), name="killer"),
                       threading.Thread(target=self._drop_after_apply, args=(send_seconds,), name="faults"),
                       threading.Thread(target=self._repush_late, name="repush")]
            for thread in helpers:
                thread.start()
            try:
                pace = send_seconds * cfg.clients / max(len(self.commands), 1)
                with ThreadPoolExecutor(cfg.clients, "client") as pool:
                    for result in pool.map(lambda chain: self._send_chain(chain, pace), self.chains):
                        del result
                self.sending.clear()
                helpers[2].join()  # every late re-push delivered
                self._drain(started)
            finally:
                self.sending.clear()
                self.stop_killing.set()
                for thread in helpers:
                    thread.join()
            self.summary.duration_s = time.monotonic() - started
            self._check()
        return self.summary

    def _send_chain(self, chain: list[Command], pace: float) -> None:
        """One assessment's commands, strictly one after the other: the next only once the last got its 200."""
        rng = random.Random(chain[0].n)
        for command in chain:
            time.sleep(rng.uniform(0, 2 * pace))
            copies = command.copies
            if rng.random() < 0.3:  # Feishu's retry arriving while the first copy is still being handled
                with self.lock:
                    self.summary.concurrent_pairs += 1
                pair = threading.Thread(target=self._deliver, args=(command,))
                pair.start()
                self._deliver(command)
                pair.join()
                copies -= 2
            else:
                self._deliver(command)
                copies -= 1
            self._until_acknowledged(command, rng)
            with self.lock:
                for _ in range(copies):  # the other copies: re-pushed later, whatever happened since
                    due = time.monotonic() + rng.uniform(0.5, 15.0)
                    heapq.heappush(self.late, (due, next(self.sequence), command))

    def _until_acknowledged(self, command: Command, rng: random.Random) -> None:
        wait = 0.1
        while not command.acked:
            if time.monotonic() > self.deadline:
                return
            time.sleep(rng.uniform(0, wait))
            wait = min(wait * 2, 2.0)
            self._deliver(command)

    def _deliver(self, command: Command) -> bool:
        web = self.rng.choice(self.web)
        sent = time.monotonic()
        status, seconds = deliver(web.url, command.payload(), ENCRYPT_KEY)
        with self.lock:
            self.summary.deliveries += 1
            self.statuses[status] += 1
            if status == 200:
                self.latencies.append((sent, seconds))
                command.acked = True
        return status == 200

    def _repush_late(self) -> None:
        """Deliver the later copies when due (at once once the senders are done), each until it gets a 200."""
        rng = random.Random(self.config.seed + 1)
        with ThreadPoolExecutor(4, "repush") as pool:
            while True:
                with self.lock:
                    due = self.late and (self.late[0][0] <= time.monotonic() or not self.sending.is_set())
                    item = heapq.heappop(self.late) if due else None
                    finished = not self.late and not self.sending.is_set()
                if item is not None:
                    pool.submit(self._repush, item[2], rng.random())
                elif finished or time.monotonic() > self.deadline:
                    return
                else:
                    time.sleep(0.05)

    def _repush(self, command: Command, seed: float) -> None:
        rng = random.Random(seed)
        wait = 0.1
        while not self._deliver(command) and time.monotonic() < self.deadline:
            time.sleep(rng.uniform(0, wait))
            wait = min(wait * 2, 2.0)

    # -- the faults ------------------------------------------------------------------------------------------

    def _kill(self, send_seconds: float) -> None:
        """SIGKILL random workers until enough were killed; every fifth time, right after an applied PATCH."""
        rng = random.Random(self.config.seed + 2)
        interval = send_seconds / max(self.config.kills * 0.6, 1)
        rounds = 0
        while self.summary.kills < self.config.kills and not self.stop_killing.wait(rng.uniform(0.5, 1.5) * interval):
            rounds += 1
            if rounds % 5 == 0 and self._kill_after_patch():
                continue
            web = rng.choice(self.web)
            try:
                processes.wait_until(lambda w=web: len(w.worker_pids()) >= w.workers, 20, 0.05, "a respawn")
            except TimeoutError:
                continue
            if web.kill_worker(rng.choice(web.worker_pids())):
                with self.lock:
                    self.summary.kills += 1

    def _kill_after_patch(self) -> bool:
        """Hold the jobs table; once the Open API applied a PATCH whose job cannot record it, kill every worker."""
        if self.database_url.startswith("sqlite"):
            # Holding SQLite's one write lock also stops new slots being taken: slow a few PATCHes down so that
            # some are in flight when it is taken. (PostgreSQL hands out slots all along.)
            self.api.fault("patch", "latency", seconds=0.3, count=4)
            time.sleep(0.15)
        start = time.monotonic()
        try:
            with jobs_frozen(self.database_url):
                held = time.time()
                time.sleep(0.5)
                cut = [c for c in self.api.calls("patch") if c["time"] > held and c["applied"]]
                if not cut:
                    return False
                victims = [(web, pid) for web in self.web for pid in web.worker_pids()]
                killed = sum(web.kill_worker(pid) for web, pid in victims)
            for web in self.web:
                processes.wait_until(lambda w=web: len(w.worker_pids()) >= w.workers, 20, 0.05, "a respawn")
        finally:
            with self.lock:
                self.held.append((start, time.monotonic()))
        with self.lock:
            self.summary.kills += killed
            self.summary.kills_after_patch += 1
            self.summary.writes_cut_after_patch += len(cut)
        return True

    def _drop_after_apply(self, send_seconds: float) -> None:
        """Now and then the Open API applies a PATCH and then drops the connection (the bot cannot tell)."""
        target = max(self.config.events // 50, 1)
        rng = random.Random(self.config.seed + 3)
        for _ in range(target):
            if self.stop_killing.wait(rng.uniform(0.5, 1.5) * send_seconds / target):
                return
            self.api.fault("patch", "apply_then_fail", then="drop", count=1)

    # -- the end ---------------------------------------------------------------------------------------------

    def _drain(self, started: float) -> None:
        """Until every job is settled (the killer keeps going until it has killed enough)."""
        store = Store(self.database_url)
        try:
            limit = time.monotonic() + self.config.drain_timeout
            while time.monotonic() < limit:
                if self.summary.kills >= self.config.kills:
                    self.stop_killing.set()
                if self.stop_killing.is_set() and store.settled():
                    return
                time.sleep(1.0)
        finally:
            store.dispose()

    def _check(self) -> None:
        s = self.summary
        time.sleep(1.0)  # a reply sent twice would have landed by now
        s.acks = sum(c.acked for c in self.commands)
        s.no_answer = self.statuses.pop(None, 0)
        # 503 is an answer, not an error: the bot could not store the push yet, and it is pushed again until a 200
        s.http_errors = {str(code): n for code, n in self.statuses.items() if code not in (200, 503)}
        if self.latencies:
            ordered = sorted(seconds for _, seconds in self.latencies)
            s.ack_p50_ms = statistics.median(ordered) * 1000
            s.ack_p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
            s.ack_max_ms = ordered[-1] * 1000
            s.ack_max_undisturbed_ms = 1000 * max(
                (seconds for sent, seconds in self.latencies
                 if not any(sent < to and sent + seconds > start for start, to in self.held)), default=0.0)
        patches = self.api.calls("patch")
        s.patches_seen, s.patches_applied = len(patches), sum(c["applied"] for c in patches)
        s.dropped_after_apply = sum("apply_then_fail" in c["faults"] for c in patches)
        s.throttled = self.api.throttled()
        state = self.api.assessments()
        last = {chain[-1].assessment_id: chain[-1] for chain in self.chains}
        s.final_mismatches = sum(
            {k: state.get(aid, {}).get(k) for k in ("conclusion", "assessment_dimension_list", "content")}
            != command.expected() for aid, command in last.items())
        replies = Counter(m.get("parent_id") for m in self.api.messages() if m["sender"] == "app")
        confirmations = [replies[c.message_id] for c in self.commands]
        s.confirmations_missing = confirmations.count(0)
        s.confirmations_duplicated = sum(n > 1 for n in confirmations)
        s.reply_attempts = len(self.api.calls("reply"))
        store = Store(self.database_url)
        try:
            with store.transaction() as conn:
                written = Counter(json.loads(p)["target"]["message_id"] for p in conn.execute(
                    jobs.select().with_only_columns(jobs.c.payload).where(jobs.c.kind == "write")).scalars())
            by_status = store.jobs_by_status()
            owed = store.backlog()[0]  # a sync planned for later is not stuck
        finally:
            store.dispose()
        s.write_jobs = sum(written.values())
        s.stuck_jobs = owed
        s.dead_jobs = by_status.get("dead", 0)
        s.readyz_backlog = max(web.readyz()["backlog"] for web in self.web)
        unwritten = sum(written[c.message_id] != 1 for c in self.commands)
        checks = [(s.acks == s.events, f"{s.events - s.acks} events never acknowledged"),
                  (not s.http_errors, f"HTTP errors {s.http_errors}"),
                  (unwritten == 0, f"{unwritten} events without exactly one write job"),
                  (s.final_mismatches == 0, f"{s.final_mismatches} assessments differ from their last command"),
                  (s.confirmations_missing == 0, f"{s.confirmations_missing} commands never confirmed"),
                  (s.confirmations_duplicated == 0, f"{s.confirmations_duplicated} commands confirmed twice"),
                  (s.stuck_jobs == 0 and s.readyz_backlog == 0, f"{s.stuck_jobs} jobs stuck"),
                  (s.dead_jobs == 0, f"{s.dead_jobs} dead jobs"),
                  (s.kills >= self.config.kills, f"only {s.kills} workers killed")]
        s.problems = [problem for ok, problem in checks if not ok]


@contextmanager
def database(kind: str, workdir: Path, postgres: str) -> Iterator[tuple[str, str]]:
    """(URL, label) of an empty database of this kind, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'assessbot.db'}", "SQLite"
        return
    with postgres_database(postgres) as url:
        yield url, "PostgreSQL"


def crash(config: Config, workdir: Path, postgres: str = "") -> Summary:
    """One run on a fresh database: SQLite with one instance, PostgreSQL with `config.instances`."""
    kind = "sqlite" if config.database == "sqlite" else "postgresql"
    with database(kind, workdir, postgres or config.database) as (url, label):
        return CrashRun(config, workdir, url, label).run()
