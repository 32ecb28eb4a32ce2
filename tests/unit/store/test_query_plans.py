"""Every statement on a hot path finds its rows through an index, on SQLite and PostgreSQL alike.

The statements are those the store really runs (caught as they execute), each explained by the database: a
full scan of a table would make acknowledgements, claims and the inbox slower as the tables grow.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import event

from bot.assessment import Assessment, Conclusion
from bot.contract import NewJob
from bot.store import Pace, Store
from tests.support.jobs import write_job

SQLITE_SCAN = re.compile(r"^SCAN (\w+)$")  # SQLite's plan for reading a whole table (no index)


def write(aid: str) -> NewJob:
    return write_job(aid, conclusion=Conclusion.PASS)


def statements(store: Store, call: Callable[[], object]) -> list[tuple[str, object]]:
    """The statements `call` runs, with their parameters (transaction control left out)."""
    caught: list[tuple[str, object]] = []

    def catch(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SELECT 1\b)", statement, re.I):
            caught.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", catch)
    store.hot.watch = lambda statement, parameters: catch(None, None, statement, parameters, None, False)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)
        store.hot.watch = None
    assert caught
    return caught


def full_scans(store: Store, caught: list[tuple[str, object]]) -> list[str]:
    """The statements whose plan reads a whole table, each with its plan."""
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        found = []
        for statement, parameters in caught:
            if store.dialect == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [row[-1] for row in cursor.fetchall()]
                bad = [step for step in plan if SQLITE_SCAN.match(step)]
            else:
                cursor.execute("SET enable_seqscan = off")  # tiny test tables: ask whether an index exists at all
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = [row[0] for row in cursor.fetchall()]
                bad = [step for step in plan if "Seq Scan" in step]
            if bad:
                found.append(f"{statement}\n  " + "\n  ".join(plan))
        raw.rollback()
        return found
    finally:
        raw.close()


def test_the_acknowledgement_the_claim_and_the_write_record_use_indexes(store):
    assert full_scans(store, statements(store, lambda: store.accept(["event:1", "message:1"], [write("A")]))) == []
    job = store.claim("runner", 60)
    assert job is not None
    assert full_scans(store, statements(store, lambda: store.claim("runner", 60))) == []
    assert full_scans(store, statements(store, lambda: store.claim("other", 60, job_id=job.id))) == []
    record = statements(store, lambda: store.record_write(job, Assessment(conclusion=Conclusion.PASS),
                                                          {"actor": "ou_a"}, None))
    assert full_scans(store, record) == []
    assert full_scans(store, statements(store, lambda: store.finish(job))) == []
    store.accept(["event:2"], [write("B")])
    claimed: list = []
    claim = statements(store, lambda: claimed.append(store.claim("runner", 60)))
    assert full_scans(store, claim) == []
    done = statements(store, lambda: store.record_write(claimed[0], Assessment(), {"actor": "ou_a"}, None, done=True))
    assert full_scans(store, done) == []


def test_the_rate_limit_uses_indexes(store):
    pace = Pace("patch", 20, 1.02)
    started = statements(store, lambda: store.start_call(pace))
    call_id = store.start_call(pace)[0]
    ended = statements(store, lambda: store.end_call(call_id, 0.0))
    assert any("rate_hits" in sql for sql, _ in started) and full_scans(store, started + ended) == []


def test_the_inbox_and_the_lookup_of_an_assignment_use_indexes(store, clock):
    assert full_scans(store, statements(store, lambda: store.due("ou_a", clock()))) == []
    assert full_scans(store, statements(store, lambda: store.find_assignments("7000000000000000001", "ou_a"))) == []
    assert full_scans(store, statements(store, lambda: store.find_assignments("Ada Lovelace", "ou_a"))) == []
    assert full_scans(store, statements(store, lambda: store.submitted("ou_a"))) == []


def test_a_purge_finds_its_batches_through_indexes(store, clock):
    store.accept(["event:1"], [write("A")])
    store.finish(store.claim("runner", 60))
    clock.advance(8 * 24 * 3600)
    caught = statements(store, lambda: store.purge(dedup_ttl=7 * 24 * 3600, job_ttl=7 * 24 * 3600, batch=1))
    assert [s for s, _ in caught if s.lstrip().startswith("DELETE")]
    assert full_scans(store, caught) == []
