"""The database behind one interface, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.assessment import Assessment, Conclusion
from bot.contract import NewJob
from bot.store import Denied, Pace, Store, rate_hits, rate_limits
from bot.store.ratelimit import POLL, STALE
from tests.support.clock import FakeClock
from tests.support.ids import START
from tests.support.jobs import write_job
from tests.support.processes import max_in_window


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def write(aid: str, **fields) -> NewJob:
    return write_job(aid, **fields)


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
    assert (one.assessment_key, other.assessment_key) == ("A", "B")
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


PACE = Pace("patch", 20, 1.0)


def test_calls_start_at_once_until_the_limit_could_have_reached_feishu_within_the_window(store, clock):
    """20 calls go at once; the 21st waits until the first call's answer is a window old."""
    calls = [store.start_call(PACE) for _ in range(20)]
    assert all(call_id is not None and wait == 0.0 for call_id, wait in calls)
    clock.advance(0.3)
    for call_id, _ in calls:
        store.end_call(call_id, clock())
        clock.advance(0.01)
    call_id, wait = store.start_call(PACE)
    assert call_id is None and wait == pytest.approx(1.0 - 0.2)
    clock.advance(wait)
    call_id, wait = store.start_call(PACE)
    assert call_id is not None and wait == 0.0
    assert store.start_call(PACE) == (None, pytest.approx(0.01))  # the next answer leaves the window 10 ms later


def test_a_call_in_flight_counts_until_its_answer_however_long_it_takes(store, clock):
    calls = [store.start_call(PACE)[0] for _ in range(20)]
    clock.advance(5.0)
    assert store.start_call(PACE) == (None, pytest.approx(POLL))  # its end is unknown: look again shortly
    store.end_call(calls[7], clock())
    call_id, wait = store.start_call(PACE)
    assert call_id is None and wait == pytest.approx(1.0)
    clock.advance(wait)
    assert store.start_call(PACE)[0] is not None


def test_a_call_whose_process_died_counts_until_it_could_no_longer_arrive(store, clock):
    for _ in range(20):
        store.start_call(PACE)  # never ended: the process was killed
    clock.advance(STALE)
    call_id, wait = store.start_call(PACE)
    assert call_id is None and wait == pytest.approx(1.0)
    clock.advance(wait)
    assert store.start_call(PACE)[0] is not None


def test_feishu_saying_too_fast_pauses_every_caller(store, clock):
    store.block("patch", clock() + 3)
    assert store.start_call(PACE) == (None, pytest.approx(3.0))
    clock.advance(3.0)
    assert store.start_call(PACE)[0] is not None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(0.0, 0.6), st.floats(0.0, 0.1)), min_size=60, max_size=120),
       st.integers(10, 40))
def test_however_late_calls_arrive_no_more_than_the_limit_reach_feishu_in_any_second(store, clock, calls, callers):
    """Callers that start calls as fast as allowed, each call arriving any time between its start and its answer."""
    pace = Pace(f"p{clock()}", 20, 1.0)
    events = [(clock(), n, "ask", None) for n in range(callers)]
    arrivals, todo = [], list(calls)
    while events:
        events.sort()
        at, caller, what, call_id = events.pop(0)
        clock.now = max(clock.now, at)
        if what == "end":
            store.end_call(call_id, clock())
            events.append((clock(), caller, "ask", None))
        elif todo:
            call_id, wait = store.start_call(pace)
            if call_id is None:
                events.append((clock() + wait, caller, "ask", None))
                continue
            late, rest = todo.pop()
            arrivals.append(clock() + late)
            events.append((clock() + late + rest, caller, "end", call_id))
    assert max_in_window(arrivals, 1.0) <= 20


def test_a_call_is_started_when_it_is_let_go_not_when_it_was_asked_for(store, database_url, clock):
    """A caller queued behind another process records the time it got the limit: its call leaves after that."""
    store.block("patch", 0.0)  # the limit's row exists
    other, granted = Store(database_url, clock), []
    waiter = threading.Thread(target=lambda: granted.append(store.start_call(PACE)))
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
    assert granted[0][1] == 0.0 and logged == [START + 5.0]


def test_old_records_are_purged_after_their_ttl(store, clock):
    store.accept(["old"], [write("A")])
    job = store.claim("r", 60)
    store.finish(job)
    clock.advance(25 * 3600)
    store.accept(["new"], [write("A")])
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600) == {"processed_keys": 1, "jobs": 1, "uploads": 0,
                                                                    "rate_hits": 0}
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
                                                                              "uploads": 0, "rate_hits": 0}
    assert store.seen("new") and not any(store.seen(f"old:{n}") for n in range(7)) and not store.seen("pending")
    assert store.jobs_by_status() == {"pending": 1}
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600, batch=2) == {"processed_keys": 0, "jobs": 0,
                                                                              "uploads": 0, "rate_hits": 0}


def test_schedule_files_sent_in_chat_are_purged_as_old_as_finished_jobs(store, clock):
    store.begin_upload("om_old", "ou_a", "om_old", "file_1", "old.csv", {"type": "private", "open_id": "ou_a"})
    store.keep_upload("om_old", data=b"interview_id\n1\n")
    clock.advance(25 * 3600)
    store.begin_upload("om_new", "ou_a", "om_new", "file_2", "new.csv", {"type": "private", "open_id": "ou_a"})
    assert store.purge(dedup_ttl=24 * 3600, job_ttl=24 * 3600)["uploads"] == 1
    assert store.upload("om_old") is None and store.upload("om_new") is not None


def test_the_backlog_reports_count_and_age(store, clock):
    store.accept(["a"], [write("A")])
    clock.advance(7)
    assert store.backlog() == (1, 7.0)


def test_a_closed_store_leaves_no_file_open(tmp_path, clock):
    """It closes every file it opened (the database's and its writer lock's), so a long-lived process that opens
    and closes stores — the CLI's commands, a test run — never runs out of descriptors."""
    import os

    def open_files() -> set[str]:
        return {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")}

    before = open_files()
    for _ in range(3):
        store = Store(f"sqlite:///{tmp_path}/bot.db", clock)
        store.accept(["event:1"], [write_job("ab-1", "ou_a")])
        store.dispose()
    assert {f for f in open_files() - before if str(tmp_path) in f} == set()
