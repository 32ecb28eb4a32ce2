"""The database lease and the elector that keeps one long connection per deployment (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.adapters.longconn import LEASE, Elector, status
from bot.store import Store

T0 = 1_795_600_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_one_holder_at_a_time_until_its_lease_runs_out(store, clock):
    """It gives the lease to the first asker, refuses others while it lasts, and hands it over once expired."""
    assert store.hold_lease("x", "a", 30, {"state": "connecting"})
    assert not store.hold_lease("x", "b", 30, {"state": "connecting"})
    clock.now += 20
    assert store.hold_lease("x", "a", 30, {"state": "connected"})  # renewed: now until T0 + 50
    clock.now += 25
    assert not store.hold_lease("x", "b", 30, {})
    lease = store.lease("x")
    assert (lease.holder, lease.expires_at, lease.state) == ("a", T0 + 50, {"state": "connected"})
    clock.now += 6
    assert store.hold_lease("x", "b", 30, {"state": "connecting"})
    assert store.lease("x").holder == "b"


def test_a_released_lease_is_free_at_once_and_keeps_the_last_word(store, clock):
    """It frees the lease on release (only for its holder) and keeps the state the holder left."""
    store.hold_lease("x", "a", 30, {"state": "connected"})
    assert not store.release_lease("x", "b", {"state": "stopped"})
    assert store.release_lease("x", "a", {"state": "stopped"})
    lease = store.lease("x")
    assert (lease.holder, lease.held(clock()), lease.state) == (None, False, {"state": "stopped"})
    assert store.hold_lease("x", "b", 30, {})
    assert store.lease("never") is None


@dataclass
class FakeState:
    name: str = "connecting"

    def as_dict(self) -> dict:
        return {"state": self.name, "since": 0.0, "last_error": None}


@dataclass
class FakeConnection:
    """Stands in for bot.feishu.longconn.LongConnection."""

    state: FakeState = field(default_factory=FakeState)
    started: bool = False
    stopped: bool = False
    ended: bool = False

    def start(self) -> None:
        self.started = True
        self.state.name = "connected"

    def stop(self, timeout: float = 5.0) -> bool:
        self.stopped = True
        self.state.name = "stopped"
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return self.ended or self.stopped


class FakeCtx:
    def __init__(self, store: Store, clock: Clock):
        self.store, self.clock = store, clock


def elector(store: Store, clock: Clock, made: list[FakeConnection]) -> Elector:
    def make() -> FakeConnection:
        made.append(FakeConnection())
        return made[-1]

    return Elector(FakeCtx(store, clock), make=make, clock=clock)  # type: ignore[arg-type]


def test_of_two_processes_only_one_opens_the_connection(store, clock):
    """It opens one connection among several electors, and reports its state through the lease."""
    made_a, made_b = [], []
    a, b = elector(store, clock, made_a), elector(store, clock, made_b)
    for _ in range(3):
        a.step()
        b.step()
        clock.now += 11
    assert (len(made_a), len(made_b)) == (1, 0)
    assert a.holding and not b.holding
    ready, shown = status(FakeCtx(store, clock))  # type: ignore[arg-type]
    assert ready and shown["holder"] == a.holder and shown["state"] == "connected"


def test_the_other_takes_over_when_the_holder_stops_or_vanishes(store, clock):
    """It hands over at once after a clean stop, and after the lease expired when the holder died."""
    made_a, made_b, made_c = [], [], []
    a, b = elector(store, clock, made_a), elector(store, clock, made_b)
    a.step()
    a.stop()
    assert made_a[0].stopped and store.lease(LEASE).holder is None
    b.step()
    assert b.holding  # b died without a word: c waits for the lease to run out
    c = elector(store, clock, made_c)
    c.step()
    clock.now += 29
    c.step()
    assert not c.holding
    clock.now += 10  # the next try after the lease ran out
    c.step()
    assert c.holding and len(made_c) == 1


def test_a_holder_that_loses_its_lease_closes_its_connection(store, clock):
    """It closes the connection when renewal finds someone else holding the lease (say after a long pause)."""
    made = []
    a = elector(store, clock, made)
    a.step()
    clock.now += 31
    assert store.hold_lease(LEASE, "someone else", 30, {"state": "connecting"})
    a.step()
    assert made[0].stopped and not a.holding
    assert store.lease(LEASE).holder == "someone else"


def test_a_connection_that_ended_on_its_own_gives_the_lease_back_and_is_tried_again_later(store, clock):
    """It releases the lease when its connection ends (refused, gave up) and opens a new one after a pause."""
    made = []
    a = elector(store, clock, made)
    a.step()
    made[0].ended = True
    a.step()
    assert not a.holding and store.lease(LEASE).holder is None
    a.step()
    assert len(made) == 1  # not at once
    clock.now += 11
    a.step()
    assert len(made) == 2 and a.holding


def test_readyz_is_unavailable_without_a_live_connected_holder(store, clock):
    """It reports not ready with no lease, with an expired one, and while the holder is not connected."""
    ctx = FakeCtx(store, clock)
    assert status(ctx) == (False, {"mode": "longconn", "state": "no holder"})  # type: ignore[arg-type]
    store.hold_lease(LEASE, "a", 30, {"state": "reconnecting", "since": T0, "last_error": "connection lost"})
    ready, shown = status(ctx)  # type: ignore[arg-type]
    assert not ready and shown == {"mode": "longconn", "holder": "a", "expires_in": 30.0, "state": "reconnecting",
                                   "since": T0, "last_error": "connection lost"}
    clock.now += 31
    assert status(ctx)[0] is False  # type: ignore[arg-type]
