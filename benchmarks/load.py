"""The benchmark's load generator: pre-signed pushes sent over keep-alive connections from several processes.

Fixed rates are offered open-loop: request i is due at start + i / rate whatever happened to the others, and
its latency is counted from when it was due, so a stalled server cannot hide its stall by slowing the
generator down (coordinated omission). Saturation is closed-loop: every connection sends its next request as
soon as the previous answer is in. Requests are built and encrypted before the clock starts, in each generator
process (`python -m benchmarks.load`, told its plan and start time on stdin, answering with JSON on stdout).
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import subprocess
import sys
import threading
import time
import uuid
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.sandbox import processes, push

PATH = "/feishu/events"
SENDER = "ou_bench00000000000000000000000000"
IDLE_RECONNECT = 3.0  # gunicorn drops keep-alive connections idle for 5 s; never send on one that old
ROOT = Path(__file__).resolve().parents[1]
SATURATION_CEILING = 2500  # requests per second prepared for a closed loop: well above what 2 cores answer


@dataclass(frozen=True)
class Keys:
    """What signs and encrypts a push: the app's Encrypt Key and Verification Token."""

    encrypt_key: str
    token: str


@dataclass
class Outcome:
    """Everything one load run measured; latencies in seconds."""

    latencies: array = field(default_factory=lambda: array("d"))
    lags: array = field(default_factory=lambda: array("d"))  # how late each request left (open loop only)
    statuses: dict[int, int] = field(default_factory=dict)  # 0 counts connection errors
    elapsed: float = 0.0
    exhausted: bool = False  # a closed loop ran out of prepared requests before its time was up
    cpu: float | None = None  # CPU seconds the server's processes used during the run (set by the lab)

    @property
    def cpu_per_request(self) -> float | None:
        return self.cpu / self.count if self.cpu is not None and self.count else None

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    def to_json(self) -> str:
        return json.dumps({"latencies": self.latencies.tolist(), "lags": self.lags.tolist(),
                           "statuses": self.statuses, "elapsed": self.elapsed, "exhausted": self.exhausted})

    @classmethod
    def from_json(cls, text: bytes | str) -> Outcome:
        data = json.loads(text)
        return cls(array("d", data["latencies"]), array("d", data["lags"]),
                   {int(status): n for status, n in data["statuses"].items()}, data["elapsed"], data["exhausted"])

    def merge(self, other: Outcome) -> None:
        self.latencies.extend(other.latencies)
        self.lags.extend(other.lags)
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.elapsed = max(self.elapsed, other.elapsed)
        self.exhausted = self.exhausted or other.exhausted


def assess_command(tag: str, n: int) -> str:
    """A typed write for a never-seen assessment: each one commits a dedup record and a write job."""
    return f"/assess {tag}{n:09d} pass coding=4"


def message_push(keys: Keys, text: str) -> tuple[bytes, dict[str, str]]:
    """One signed, encrypted `im.message.receive_v1` push carrying `text` from the benchmark's user."""
    payload = push.message_event(text, token=keys.token, sender=SENDER, chat_id="oc_bench")
    return push.sealed(payload, keys.encrypt_key)


class Connection:
    """One keep-alive HTTP/1.1 connection that reopens itself after an error or a long idle spell."""

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0.0

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST and read the whole answer; status 0 when the connection failed."""
        if self._conn is None or time.monotonic() - self._used > IDLE_RECONNECT:
            self.close()
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._conn.request("POST", path, body, headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b""
        self._used = time.monotonic()
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _percent(values: list[float], q: float) -> float:
    index = min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))
    return values[index]


def percentiles(latencies: array) -> dict[str, float]:
    """p50, p90, p99, p99.9 and max (nearest rank), in seconds; empty when nothing was measured."""
    values = sorted(latencies)
    if not values:
        return {}
    return {"p50": _percent(values, 50), "p90": _percent(values, 90), "p99": _percent(values, 99),
            "p99.9": _percent(values, 99.9), "max": values[-1]}


# -- the runs ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One load run: where, what, how fast (rate None: as fast as answers come) and for how long."""

    url: str
    keys: Keys
    tag: str
    duration: float
    rate: float | None = None
    processes: int = 2
    threads: int = 16
    limit: int | None = None  # send at most this many requests (a closed loop stops there)

    def total(self) -> int:
        if self.rate is not None:
            planned = max(1, int(self.rate * self.duration))
        else:
            planned = int(SATURATION_CEILING * self.duration) + 100
        return min(planned, self.limit) if self.limit is not None else planned


def run(plan: Plan) -> Outcome:
    """Run a plan from `plan.processes` generator processes (`python -m benchmarks.load`, whoever the caller is)."""
    order = {**asdict(plan)}
    env = processes.clean_env(pythonpath=[ROOT])  # the benchmarks are not installed: found from any directory
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.load"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env) for _ in range(plan.processes)]
    try:
        for index, proc in enumerate(procs):
            _tell(proc, json.dumps({"plan": order, "index": index}))
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != b"ready":
                raise RuntimeError(f"a load generator process failed (exit code {proc.wait()})")
        start_at = time.monotonic() + 0.2  # CLOCK_MONOTONIC is one clock for every process on Linux
        for proc in procs:
            _tell(proc, repr(start_at))
        outcome = Outcome()
        for proc in procs:
            out, _ = proc.communicate(timeout=plan.duration + 120.0)
            if proc.returncode != 0:
                raise RuntimeError(f"a load generator process failed (exit code {proc.returncode})")
            outcome.merge(Outcome.from_json(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return outcome


def _tell(proc: subprocess.Popen, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()


def main() -> int:
    """A generator process: read its plan, prepare its share of the requests, say ready, wait, send, report."""
    order = json.loads(sys.stdin.readline())
    plan = Plan(**{**order["plan"], "keys": Keys(**order["plan"]["keys"])})
    index = order["index"]
    prepared = [message_push(plan.keys, assess_command(plan.tag, n))
                for n in range(index, plan.total(), plan.processes)]
    print("ready", flush=True)
    t0 = float(sys.stdin.readline())
    while time.monotonic() < t0:
        time.sleep(max(0.0, t0 - time.monotonic()))
    outcome = Outcome()
    lock = threading.Lock()
    picks = itertools.count()
    if plan.rate is None:
        def due(k: int) -> float | None:
            return None
    else:
        def due(k: int) -> float | None:
            return t0 + (index + k * plan.processes) / plan.rate  # type: ignore[operator]
    threads = [threading.Thread(target=_sender, args=(plan, prepared, picks, due, t0, outcome, lock))
               for _ in range(plan.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sys.stdout.write(outcome.to_json())
    return 0


def _sender(plan: Plan, prepared: list, picks: itertools.count, due: Callable[[int], float | None], t0: float,
            outcome: Outcome, lock: threading.Lock) -> None:
    conn = Connection(plan.url)
    end = t0 + plan.duration
    latencies, lags, statuses = array("d"), array("d"), {}
    last = 0.0
    try:
        while True:
            k = next(picks)  # atomic under the GIL: every request is sent by exactly one thread
            if k >= len(prepared):
                if plan.rate is None and plan.limit is None and time.monotonic() < end:
                    with lock:
                        outcome.exhausted = True
                break
            scheduled = due(k)
            if scheduled is not None:
                if scheduled >= end:
                    break
                pause = scheduled - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            elif time.monotonic() >= end:
                break
            body, headers = prepared[k]
            started = time.monotonic()
            status, _ = conn.post(PATH, body, headers)
            last = time.monotonic()
            latencies.append(last - (scheduled if scheduled is not None else started))
            if scheduled is not None:
                lags.append(started - scheduled)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        conn.close()
    with lock:
        outcome.latencies.extend(latencies)
        outcome.lags.extend(lags)
        for status, n in statuses.items():
            outcome.statuses[status] = outcome.statuses.get(status, 0) + n
        outcome.elapsed = max(outcome.elapsed, last - t0)


def unique_tag() -> str:
    """A prefix that makes this run's assessment ids and events new to any database."""
    return "b" + uuid.uuid4().hex[:10]


# -- interactive: form submissions one at a time -------------------------------------------------------------

def form_values(rubric_path: Path | None = None) -> dict:
    """A complete, valid form for the shipped rubric, as the card's form_value carries it."""
    from bot import rubric as rubric_module
    from bot.settings import ROOT

    values: dict = {"conclusion": "2", "content": "benchmark", "username": "Bench User"}
    for dim in rubric_module.load(rubric_path or ROOT / "config" / "rubric.toml").dimensions:
        values[f"dim_{dim.key}"] = _valid(dim)
    return values


def _valid(dim) -> str | list[str]:  # type: ignore[no-untyped-def]
    from bot.rubric import DimensionType

    if dim.type is DimensionType.SCORE:
        return str(dim.max)
    if dim.type is DimensionType.SINGLE:
        return dim.options[0]
    if dim.type is DimensionType.MULTI:
        return list(dim.options[:2])
    return "benchmark notes"


def submit_pushes(keys: Keys, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed `card.action.trigger` pushes, each submitting a complete form for a new assessment, as issued."""
    from bot import auth, settings

    config = settings.load(env_file=None, feishu_app_id="bench", feishu_app_secret="bench",
                           feishu_verification_token=keys.token, feishu_encrypt_key=keys.encrypt_key)
    tag, form = unique_tag(), form_values()
    pushes = []
    for n in range(count):
        value = auth.form_value(config, f"{tag}{n:09d}", SENDER, uuid.uuid4().hex[:16])
        payload = push.card_action(value, form, token=keys.token, operator=SENDER, message_id=f"om_{tag}{n:09d}",
                                   chat_id="oc_bench", callback_token=f"c-{uuid.uuid4().hex}")
        pushes.append(push.sealed(payload, keys.encrypt_key))
    return pushes


def submissions(url: str, keys: Keys, count: int, every: float = 0.1, warmup: int = 3) -> tuple[Outcome, int]:
    """Submit `count` forms one at a time, one every `every` seconds; the outcome and how many were confirmed."""
    prepared = submit_pushes(keys, count + warmup)
    conn, outcome, confirmed = Connection(url), Outcome(), 0
    started = time.monotonic()
    for n, (body, headers) in enumerate(prepared):
        pause = started + n * every - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent = time.monotonic()
        status, data = conn.post(PATH, body, headers)
        took = time.monotonic() - sent
        if n < warmup:
            continue
        outcome.latencies.append(took)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            answer = json.loads(data)
            confirmed += answer["toast"]["type"] == "success" and "card" in answer
    conn.close()
    outcome.elapsed = time.monotonic() - started
    return outcome, confirmed


if __name__ == "__main__":
    sys.exit(main())
