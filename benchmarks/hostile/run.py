"""Throw each door's inputs at a fresh lab and tally what came back: answers by outcome, exceptions that escaped,
rows written that should not have been, errors the bot logged, memory, time, and a good request afterwards."""

from __future__ import annotations

import random
import resource
import signal
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from benchmarks.hostile.lab import Lab

HANG = 60  # seconds one input may take before it counts as a hang (and is interrupted)


@dataclass
class Case:
    """One hostile input: its generator's name, what the door sends, and its size in bytes (for the largest)."""

    kind: str
    data: Any
    size: int = 0


class Door(Protocol):
    """A door of the bot: the inputs it gets, how one is sent, which writes it may cause, a good request."""

    NAME: str

    def cases(self, rng: random.Random, count: int) -> Iterator[Case]: ...
    def send(self, lab: Lab, case: Case) -> str: ...
    def may_write(self, case: Case, outcome: str, tables: Counter[str]) -> bool: ...
    def good(self, lab: Lab) -> bool: ...


class Hang(Exception):
    """An input took longer than HANG seconds."""


@dataclass
class Tally:
    """What one door's inputs did."""

    door: str
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    escaped: Counter[str] = field(default_factory=Counter)  # "kind: ExceptionType" -> count
    bad_writes: Counter[str] = field(default_factory=Counter)  # "kind → table" -> rows
    logged_errors: int = 0
    logged: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    maxrss_mb: float = 0.0
    largest: tuple[str, int, float] = ("", 0, 0.0)  # kind, bytes, tracemalloc peak in MB
    good_after: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.escaped and not self.bad_writes and self.good_after


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"longer than {HANG} s")


def run_door(door: Door, count: int, seed: int, progress: Callable[[str], None] | None = None) -> Tally:
    """Send `count` inputs of one door, generated from `seed`, to a fresh lab."""
    tally = Tally(door.NAME)
    rng = random.Random(f"{seed}:{door.NAME}")
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.perf_counter()
    with Lab(**getattr(door, "SETTINGS", {})) as lab:
        biggest: Case | None = None
        for case in door.cases(rng, count):
            if biggest is None or case.size > biggest.size:
                biggest = case
            _one(door, lab, case, tally)
            if progress and tally.inputs % 10_000 == 0:
                progress(f"{door.NAME}: {tally.inputs:,} of {count:,}")
        if biggest is not None:  # again, its memory traced: the largest single input's own peak
            tracemalloc.start()
            try:
                _one(door, lab, biggest, Tally(door.NAME))
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            tally.largest = (biggest.kind, biggest.size, peak / 1024 / 1024)
        tally.good_after = door.good(lab)
        tally.logged = lab.logged.counts
        tally.logged_errors = lab.logged.errors()
        tally.extra.update(getattr(door, "extra", lambda lab: {})(lab))
    signal.signal(signal.SIGALRM, previous)
    tally.seconds = time.perf_counter() - started
    tally.maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return tally


def _one(door: Door, lab: Lab, case: Case, tally: Tally) -> None:
    """Send one input; count its outcome, or the exception that escaped, and the writes it should not have made."""
    before = Counter(lab.writes)
    began = time.perf_counter()
    signal.alarm(HANG)
    try:
        outcome = door.send(lab, case)
    except BaseException as exc:  # noqa: BLE001  (KeyboardInterrupt too: counted, then raised again)
        signal.alarm(0)
        if isinstance(exc, KeyboardInterrupt):
            raise
        tally.escaped[f"{case.kind}: {type(exc).__name__} at {_where(exc)}"] += 1
        outcome = "escaped"
    else:
        signal.alarm(0)
    took = time.perf_counter() - began
    if took > tally.slowest[0]:
        tally.slowest = (took, case.kind)
    tally.inputs += 1
    tally.outcomes[outcome] += 1
    written = lab.writes - before
    if written and not door.may_write(case, outcome, written):
        for table, rows in written.items():
            tally.bad_writes[f"{case.kind} → {table}"] += rows


def _where(exc: BaseException) -> str:
    """The last line of the bot's own code the exception passed through (else the last line of all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/bot/" in f.filename or "/cards/" in f.filename] or frames
    return f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
