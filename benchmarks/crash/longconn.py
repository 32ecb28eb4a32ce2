"""The crash test's long-connection run: Feishu's gateway misbehaves and the connection's holder is SIGKILLed.

    .venv/bin/python -m benchmarks.crash --scenario longconn [--database sqlite|postgresql|both] [--kills 10]

The bot runs in long-connection mode (FEISHU_EVENT_MODE=longconn): gunicorn with two web workers and one
`assessbot worker` on one database (on PostgreSQL two such instances), so several processes compete for the
lease and one holds the connection to the local gateway (bot/sandbox/openapi/longconn.py). Through the gateway
come /assess commands, one per assessment, some in three frames, some pushed twice (the same event id), each
pushed until the bot acknowledges it, as Feishu does. Meanwhile, at random moments, the gateway cuts the
connection in the middle of a message, delivers a message twice, refuses reconnects for a few seconds or drops
the connection, and the lease's holder (read from the lease row) gets SIGKILL; a killed `assessbot worker` is
started again, gunicorn starts a killed web worker again. Once every job is settled it counts:

  - events acknowledged, and handled exactly once: one write job, the assessment holding the command's value,
    one reply to the message;
  - lost (never acknowledged, or without its write, value or reply) and applied twice (two write jobs or two
    replies): 0 expected;
  - takeovers after a SIGKILL and the seconds from the kill to the new connection (max, median): a killed
    holder cannot give its lease back, so the next process takes over when the lease's TTL has run out
    (bot.adapters.longconn.LEASE_SECONDS) and it next asks (every RENEW_SECONDS);
  - jobs stuck or dead.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.crash.harness import drain, start_worker, summary_table
from benchmarks.crash.plan import CONCLUSIONS, SENDERS, Command, bot_env
from bot.sandbox import processes
from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import Gunicorn

FAULTS = ("cut", "duplicate", "refuse", "drop")


@dataclass
class LongConnConfig:
    """The size and the database of one long-connection run."""

    events: int = 300
    kills: int = 10
    database: str = "sqlite"  # or a postgresql:// URL of a server where databases may be created
    instances: int = 1
    twice: float = 0.25  # the share of events Feishu pushes twice (the same event id)
    in_parts: float = 0.4  # the share of pushes sent in three frames
    clients: int = 4
    send_seconds: float = 0.0  # spread the first pushes over this long; 0: as long as the kills are expected to take
    push_timeout: float = 10.0  # how long the gateway tries one push before it gives up (then it is pushed again)
    seed: int = 1
    drain_timeout: float = 300.0


@dataclass
class LongConnSummary:
    """What one run saw; `problems` lists every broken invariant."""

    database: str
    processes: str
    events: int = 0
    pushed_twice: int = 0
    pushes: int = 0
    unanswered_pushes: int = 0
    acks: int = 0
    handled_once: int = 0
    lost: int = 0
    applied_twice: int = 0
    final_mismatches: int = 0
    write_jobs: int = 0
    patches_applied: int = 0
    replies: int = 0
    faults: dict = field(default_factory=dict)
    handshakes: int = 0
    kills: int = 0
    takeovers: int = 0
    takeover_max_s: float = 0.0
    takeover_median_s: float = 0.0
    stuck_jobs: int = 0
    dead_jobs: int = 0
    duration_s: float = 0.0
    problems: list = field(default_factory=list)

    def table(self) -> str:
        faults = self.faults
        rows = [("database", f"{self.database} ({self.processes})"),
                ("events (pushed twice, same event id)", f"{self.events} ({self.pushed_twice})"),
                ("pushes (not answered in time, pushed again)", f"{self.pushes} ({self.unanswered_pushes})"),
                ("events acknowledged", self.acks),
                ("handled exactly once", self.handled_once),
                ("lost / applied twice", f"{self.lost} / {self.applied_twice}"),
                ("final mismatches", self.final_mismatches),
                ("write jobs / PATCHes applied / replies", f"{self.write_jobs} / {self.patches_applied} / "
                                                           f"{self.replies}"),
                ("gateway: cut mid-message / sent twice", f"{faults.get('cut', 0)} / {faults.get('duplicated', 0)}"),
                ("gateway: reconnects refused / drops", f"{faults.get('refused', 0)} / {faults.get('dropped', 0)}"),
                ("gateway: pushed again on another connection", faults.get("pushed_again", 0)),
                ("connections opened", self.handshakes),
                ("SIGKILLs of the holder (takeovers)", f"{self.kills} ({self.takeovers})"),
                ("kill to new connection, max / median", f"{self.takeover_max_s:.1f} / {self.takeover_median_s:.1f} s"),
                ("stuck / dead jobs", f"{self.stuck_jobs} / {self.dead_jobs}"),
                ("duration", f"{self.duration_s:.1f} s")]
        return summary_table(rows, self.problems)


def plan_events(config: LongConnConfig, rng: random.Random) -> list[Command]:
    """One command per assessment, each to a distinct id; `copies` 2 for those Feishu pushes twice."""
    return [Command(n, str(6_940_000_000_000_000_000 + n * 7919 + rng.randrange(7919)), rng.choice(SENDERS),
                    rng.choice(list(CONCLUSIONS)), rng.randint(1, 5), f"长连接 note {n}",
                    2 if rng.random() < config.twice else 1) for n in range(config.events)]


class LongConnRun:
    """One run against one database: the pushers, the gateway's faults, the killer, and the checks."""

    def __init__(self, config: LongConnConfig, workdir: Path, database_url: str, label: str):
        self.config, self.workdir, self.database_url = config, workdir, database_url
        self.rng = random.Random(config.seed)
        self.commands = plan_events(config, self.rng)
        self.summary = LongConnSummary(label, f"{config.instances} × (2 web workers + 1 worker)",
                                       events=len(self.commands),
                                       pushed_twice=sum(c.copies == 2 for c in self.commands))
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.takeovers: list[float] = []
        self.deadline = 0.0
        self.local = threading.local()
        self.api: OpenAPIProcess
        self.env: dict[str, str] = {}
        self.web: list[Gunicorn] = []
        self.workers: list[subprocess.Popen] = []

    # -- the run ---------------------------------------------------------------------------------------------

    def run(self) -> LongConnSummary:
        cfg = self.config
        send_seconds = cfg.send_seconds or max(20.0, cfg.kills * 40.0)
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            self.api = stack.enter_context(OpenAPIProcess(self.workdir, patch_rate_limit=20, longconn=True))
            env = bot_env(self.api.url, self.database_url)
            del env["FEISHU_ENCRYPT_KEY"], env["FEISHU_VERIFICATION_TOKEN"]  # the connection needs neither
            self.env = {**env, "FEISHU_EVENT_MODE": "longconn", "ASSESSBOT_RUNNER_THREADS": "2"}
            for n in range(cfg.instances):  # one after the other: the first creates the schema
                self.web.append(stack.enter_context(Gunicorn(self.env, self.workdir, f"web{n + 1}")))
                self.workers.append(self.start_worker(n))
            stack.callback(lambda: [processes.stop_group(w) for w in self.workers])
            processes.wait_until(lambda: self.api.longconn()["connections"] == 1, 60.0, 0.1, "a long connection")
            self.deadline = time.monotonic() + send_seconds * 3 + 300
            chaos = threading.Thread(target=self.chaos, name="chaos")
            chaos.start()
            try:
                pace = send_seconds * cfg.clients / max(len(self.commands), 1)
                with ThreadPoolExecutor(cfg.clients, "pusher") as pool:
                    list(pool.map(lambda c: self.send(c, pace), self.commands))
                while chaos.is_alive() and time.monotonic() < self.deadline:  # the kills still to come
                    chaos.join(1.0)
            finally:
                self.stop.set()
                chaos.join()
            self.drain()
            self.summary.duration_s = time.monotonic() - started
            self.check()
        return self.summary

    def start_worker(self, n: int) -> subprocess.Popen:
        return start_worker(self.workdir, self.env, n)

    # -- the pushes ------------------------------------------------------------------------------------------

    def send(self, command: Command, pace: float) -> None:
        """One event: pushed until acknowledged; a second copy at the same moment or a few seconds later."""
        rng = random.Random(command.n)
        time.sleep(rng.uniform(0, 2 * pace))
        if command.copies == 2 and rng.random() < 0.5:  # Feishu's second copy while the first is being handled
            pair = threading.Thread(target=self.until_acknowledged, args=(command, rng.random()))
            pair.start()
            self.until_acknowledged(command, rng.random())
            pair.join()
            return
        self.until_acknowledged(command, rng.random())
        if command.copies == 2:
            time.sleep(rng.uniform(0.2, 3.0))
            self.until_acknowledged(command, rng.random())

    def until_acknowledged(self, command: Command, seed: float) -> None:
        rng, wait = random.Random(seed), 0.2
        while not self.push(command, 3 if rng.random() < self.config.in_parts else 1):
            if time.monotonic() > self.deadline:
                return
            time.sleep(rng.uniform(0, wait))
            wait = min(wait * 2, 2.0)

    def push(self, command: Command, parts: int) -> bool:
        """One delivery through the gateway; whether the bot acknowledged it (an event is answered with {})."""
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        try:
            answer = session.post(f"{self.api.url}/_sandbox/longconn", timeout=self.config.push_timeout + 10,
                                  json={"payload": command.payload(), "timeout": self.config.push_timeout,
                                        "parts": parts})
            acked = answer.status_code == 200 and answer.json() == {"answer": {}}
        except requests.RequestException:
            acked = False
        with self.lock:
            self.summary.pushes += 1
            self.summary.unanswered_pushes += not acked
            command.acked |= acked
        return acked

    # -- the chaos -------------------------------------------------------------------------------------------

    def chaos(self) -> None:
        """A few of the gateway's faults at random moments, then a SIGKILL of the holder; until enough kills."""
        rng = random.Random(self.config.seed + 1)
        while self.summary.kills < self.config.kills and not self.stop.is_set():
            for _ in range(rng.randint(1, 3)):
                if self.stop.wait(rng.uniform(0.5, 3.0)):
                    return
                self.fault(rng.choice(FAULTS), rng)
            if self.stop.wait(rng.uniform(0.2, 2.0)):
                return
            self.kill_holder()

    def fault(self, kind: str, rng: random.Random) -> None:
        if kind == "cut":
            self.api.longconn_fault("cut", after=rng.randint(1, 2))
        elif kind == "duplicate":
            self.api.longconn_fault("duplicate")
        elif kind == "refuse":  # refused reconnects matter once the connection is gone
            self.api.longconn_fault("refuse", seconds=round(rng.uniform(1.0, 4.0), 1),
                                    how=rng.choice(["endpoint", "handshake"]))
            self.api.longconn_fault("drop")
        else:
            self.api.longconn_fault("drop")

    def kill_holder(self) -> None:
        """SIGKILL the process the lease row names, once it is connected; time the next connection."""
        from bot.adapters.longconn import LEASE
        from bot.store import Store

        store = Store(self.database_url)
        try:
            lease = processes.wait_until(lambda: self._connected_lease(store, LEASE), 120.0, 0.1, "a connected holder")
        except TimeoutError:
            return
        finally:
            store.dispose()
        pid = int(lease.holder.split(":")[1])
        killed_at = time.time()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        with self.lock:
            self.summary.kills += 1
        for n, worker in enumerate(self.workers):  # gunicorn starts its own workers again
            if worker.pid == pid:
                worker.wait()
                self.workers[n] = self.start_worker(n)
        try:
            opened = processes.wait_until(lambda: [t for t in self.api.longconn()["opened"] if t > killed_at],
                                          180.0, 0.1, "a new connection")
        except TimeoutError:
            return
        with self.lock:
            self.takeovers.append(opened[0] - killed_at)

    def _connected_lease(self, store, name: str):  # type: ignore[no-untyped-def]  # noqa: ANN001
        lease = store.lease(name)
        ok = (lease is not None and lease.held(time.time()) and lease.state.get("state") == "connected"
              and self.api.longconn()["connections"] == 1)
        return lease if ok else None

    # -- the end ---------------------------------------------------------------------------------------------

    def drain(self) -> None:
        """Until every job is settled."""
        drain(self.database_url, self.config.drain_timeout, lambda store: not store.settled())

    def check(self) -> None:
        from bot.store import Store, jobs

        s = self.summary
        store = Store(self.database_url)
        try:
            with store.transaction() as conn:
                written = Counter(json.loads(p)["target"]["message_id"] for p in conn.execute(
                    jobs.select().with_only_columns(jobs.c.payload).where(jobs.c.kind == "write")).scalars())
            by_status = store.jobs_by_status()
            s.stuck_jobs = store.backlog()[0]
        finally:
            store.dispose()
        s.dead_jobs = by_status.get("dead", 0)
        state = self.api.assessments()
        replies = Counter(m.get("parent_id") for m in self.api.messages() if m["sender"] == "app")
        gateway = self.api.longconn()
        s.faults, s.handshakes = gateway["counts"], gateway["handshakes"]
        s.patches_applied = sum(c["applied"] for c in self.api.calls("patch"))
        s.write_jobs, s.replies = sum(written.values()), sum(replies[c.message_id] for c in self.commands)
        s.acks = sum(c.acked for c in self.commands)
        for c in self.commands:
            held = {k: state.get(c.assessment_id, {}).get(k) for k in
                    ("conclusion", "assessment_dimension_list", "content")}
            right = held == c.expected()
            s.final_mismatches += not right
            twice = written[c.message_id] > 1 or replies[c.message_id] > 1
            lost = not c.acked or written[c.message_id] == 0 or not right or replies[c.message_id] == 0
            s.applied_twice += twice
            s.lost += lost
            s.handled_once += not (twice or lost)
        s.takeovers = len(self.takeovers)
        if self.takeovers:
            s.takeover_max_s, s.takeover_median_s = max(self.takeovers), statistics.median(self.takeovers)
        checks = [(s.acks == s.events, f"{s.events - s.acks} events never acknowledged"),
                  (s.lost == 0, f"{s.lost} events lost"),
                  (s.applied_twice == 0, f"{s.applied_twice} events applied twice"),
                  (s.handled_once == s.events, f"{s.events - s.handled_once} events not handled exactly once"),
                  (s.stuck_jobs == 0, f"{s.stuck_jobs} jobs stuck"),
                  (s.dead_jobs == 0, f"{s.dead_jobs} dead jobs"),
                  (s.kills >= self.config.kills, f"only {s.kills} holders killed"),
                  (s.takeovers == s.kills, f"{s.kills - s.takeovers} kills without a new connection")]
        s.problems = [problem for ok, problem in checks if not ok]


def longconn_crash(config: LongConnConfig, workdir: Path) -> LongConnSummary:
    """One long-connection run on a fresh database: SQLite, or PostgreSQL (`config.database` names the server)."""
    from benchmarks.crash.run import database

    kind = "sqlite" if config.database == "sqlite" else "postgresql"
    with database(kind, workdir, config.database) as (url, label):
        return LongConnRun(config, workdir, url, label).run()
