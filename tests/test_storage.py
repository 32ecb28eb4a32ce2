"""The database behind one interface, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from bot.assessment import Assessment, Conclusion, Submission
from bot.store import Denied, NewJob, Pace, Store, rate_hits, rate_limits
from tests.support.clock import FakeClock
from tests.support.ids import START


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database_url, clock):
    store = Store(database_url, clock)
    store.create_schema()
    yield store
    store.dispose()


def write(aid: str, **fields) -> NewJob:
    return NewJob("write", {"submission": Submission(**fields).model_dump(mode="json"), "actor": "ou_a"}, aid,
                  versioned=True)


def test_a_key_seen_before_rolls_back_the_whole_acknowledgement(store):
    assert store.accept(["event:1", "message:1"], [write("A", conclusion=Conclusion.PASS)]) == [1]
    assert store.accept(["event:2", "message:1"], [write("A", conclusion=Conclusion.FAIL)]) is None
    assert store.seen("event:1") and not store.seen("event:2")
    assert store.jobs_by_status() == {"pending": 1}
    assert store.known("A").next_version == 1


def test_submissions_get_increasing_versions_per_assessment(store):
    store.accept(["a"], [write("A")])
    store.accept(["b"], [write("B")])
    store.accept(["c"], [write("A")])
    assert [store.job(i)["version"] for i in (1, 2, 3)] == [1, 1, 2]


def test_the_first_writer_owns_the_assessment(store):
    store.accept(["a"], [write("A")], actor="ou_a", claim_owner=True)
    with pytest.raises(Denied):
        store.accept(["b"], [write("A")], actor="ou_b", claim_owner=True)
    assert not store.seen("b")  # the refused acknowledgement left nothing behind
    assert store.accept(["c"], [write("A")], actor="ou_admin", claim_owner=True, may_override=True)
    assert store.known("A").owner == "ou_a"


def test_a_claimed_job_is_leased_and_an_expired_lease_is_claimed_again(store, clock):
    store.accept(["a"], [write("A")])
    first = store.claim("runner-1", lease=60)
    assert first is not None and first.attempts == 1
    assert store.claim("runner-2", lease=60) is None
    clock.advance(61)
    second = store.claim("runner-2", lease=60)
    assert second is not None and second.id == first.id and second.attempts == 2
    assert not store.finish(first)  # the first runner lost its lease: its update is refused
    assert store.finish(second)
    assert store.jobs_by_status() == {"done": 1}


def test_jobs_of_one_assessment_never_run_at_the_same_time(store):
    store.accept(["a"], [write("A")])
    store.accept(["b"], [write("A")])
    store.accept(["c"], [write("B")])
    one = store.claim("r1", 60)
    other = store.claim("r2", 60)
    assert (one.assessment_id, other.assessment_id) == ("A", "B")
    assert store.claim("r3", 60) is None


def test_a_retry_waits_its_delay(store, clock):
    store.accept(["a"], [write("A")])
    job = store.claim("r", 60)
    store.retry_later(job, 5.0, "1002001: system error")
    assert store.claim("r", 60) is None
    clock.advance(5)
    assert store.claim("r", 60).attempts == 2


def test_unapplied_submissions_are_merged_in_order_and_a_success_moves_the_mark(store):
    store.accept(["a"], [write("A", conclusion=Conclusion.FAIL, dimensions={"coding": 2})])
    store.accept(["b"], [write("A", conclusion=Conclusion.PASS)])
    assert [v for v, _ in store.unapplied("A", 2)] == [1, 2]
    job = store.claim("r", 60, job_id=2)
    state = Assessment(conclusion=Conclusion.PASS, dimensions={"coding": 2})
    assert store.record_write(job, state, {"actor": "ou_a", "version": 2}, "LOG")
    assert store.known("A").applied_version == 2 and store.known("A").state == state
    assert store.unapplied("A", 2) == []
    [entry] = store.history("A")
    assert (entry.action, entry.result, entry.log_id) == ("write", "ok", "LOG")


def test_an_older_write_never_moves_the_mark_back(store):
    store.accept(["a"], [write("A", conclusion=Conclusion.FAIL)])
    store.accept(["b"], [write("A", conclusion=Conclusion.PASS)])
    newer = store.claim("r", 60, job_id=2)
    store.record_write(newer, Assessment(conclusion=Conclusion.PASS), {"actor": "ou_a"}, None)
    store.finish(newer)
    older = store.claim("r", 60, job_id=1)
    store.record_write(older, Assessment(conclusion=Conclusion.FAIL), {"actor": "ou_a"}, None)
    assert store.known("A").state.conclusion is Conclusion.PASS and store.known("A").applied_version == 2


def test_the_shared_limit_grants_at_most_the_limit_in_any_window(store, clock):
    granted = []
    for _ in range(100):
        wait = store.take_slot("patch", 20, 1.0)
        if wait == 0:
            granted.append(clock())
            clock.advance(0.01)
        else:
            clock.advance(wait)
    assert all(sum(1 for t in granted if start <= t < start + 1.0) <= 20 for start in granted)
    store.block("patch", clock() + 3)
    assert store.take_slot("patch", 20, 1.0) == pytest.approx(3.0)


def test_slots_are_spaced_evenly_and_reserved_ahead_on_the_schedule(store, clock):
    """20 per 1.08 s: slots at least 50 ms apart, never a burst; a slot within the horizon is reserved for its time."""
    assert store.take_slot("patch", 20, 1.08) == 0.0
    assert store.take_slot("patch", 20, 1.08) == pytest.approx(0.05, abs=1e-5)
    assert store.reserve_slot("patch", 20, 1.08, horizon=0.2) == (True, pytest.approx(0.05, abs=1e-5))
    assert store.reserve_slot("patch", 20, 1.08, horizon=0.2) == (True, pytest.approx(0.1, abs=1e-5))
    granted, delay = store.reserve_slot("patch", 20, 1.08, horizon=0.1)
    assert not granted and delay == pytest.approx(0.05, abs=1e-5)
    with store.transaction() as conn:
        logged = sorted(conn.execute(select(rate_hits.c.at)).scalars())
    assert [round(at - START, 3) for at in logged] == [0.0, 0.05, 0.1]


def test_a_claim_books_the_first_call_of_a_paced_job_in_its_own_transaction(store, clock):
    """One transaction instead of two: the claim leases the job and books its slot on the same schedule."""
    pace = {"write": Pace("patch", 20, 1.08)}
    for aid in "ABCDEFGHIJKL":
        store.accept([f"event:{aid}"], [write(aid, conclusion=Conclusion.PASS)])
    claimed = [store.claim(f"r{n}", 60, paces=pace) for n in range(12)]
    booked = [job.slot_at - START for job in claimed if job.slot_at is not None]
    assert booked == pytest.approx([0.05 * n for n in range(11)], abs=1e-5)  # within 0.5 s of now
    assert claimed[-1].slot_at is None  # too far ahead: its executor waits for a slot as before
    store.accept(["event:M"], [NewJob("send", {"card": {}})])
    assert store.claim("r", 60, paces=pace).slot_at is None  # a kind without a pace books nothing
    with store.transaction() as conn:
        assert len(conn.execute(select(rate_hits.c.at)).all()) == 11


def test_a_slot_is_logged_when_it_is_granted_not_when_it_was_asked_for(store, database_url, clock):
    """A caller queued behind another process logs the time it got the slot, so its call goes out inside it."""
    assert store.take_slot("patch", 20, 1.0) == 0.0
    clock.advance(1.0)
    other, granted = Store(database_url, clock), []
    waiter = threading.Thread(target=lambda: granted.append(store.take_slot("patch", 20, 1.0)))
    try:
        with other.transaction() as conn:  # another process holds the limit
            conn.execute(select(rate_limits).where(rate_limits.c.name == "patch").with_for_update())
            waiter.start()
            time.sleep(0.3)
            clock.advance(5.0)
        waiter.join(10)
    finally:
        other.dispose()
    with store.transaction() as conn:
        logged = sorted(conn.execute(select(rate_hits.c.at)).scalars())
    assert granted == [0.0] and logged == [START, START + 6.0]


def test_old_records_are_purged_after_their_ttl(store, clock):
    store.accept(["old"], [write("A")])
    job = store.claim("r", 60)
    store.finish(job)
    clock.advance(25 * 3600)
    store.accept(["new"], [write("A")])
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600) == {"processed_keys": 1, "jobs": 1, "rate_hits": 0}
    assert not store.seen("old") and store.seen("new")
    assert store.jobs_by_status() == {"pending": 1}


def test_a_purge_deletes_more_rows_than_one_batch_and_counts_them_all(store, clock):
    store.accept([f"old:{n}" for n in range(7)], [write(f"A{n}") for n in range(5)])
    for _ in range(5):
        store.finish(store.claim("r", 60))
    store.accept(["pending"], [write("B")])  # not finished: kept, however old
    clock.advance(25 * 3600)
    store.accept(["new"], [])
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600, batch=2) == {"processed_keys": 8, "jobs": 5,
                                                                              "rate_hits": 0}
    assert store.seen("new") and not any(store.seen(f"old:{n}") for n in range(7)) and not store.seen("pending")
    assert store.jobs_by_status() == {"pending": 1}
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600, batch=2) == {"processed_keys": 0, "jobs": 0,
                                                                              "rate_hits": 0}


def test_the_backlog_reports_count_and_age(store, clock):
    store.accept(["a"], [write("A")])
    clock.advance(7)
    assert store.backlog() == (1, 7.0)
