"""Jobs an operator can see and fix: the listing, retry and discard (audited), and what /readyz says of them."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from bot.cli import jobs as admin
from bot.store import Store
from tests.support.clock import FakeClock
from tests.support.jobs import remind_job, send_job, write_job


def make_jobs(store: Store) -> list[int]:
    """Four jobs: one never tried, one retrying after a Feishu error, one dead, one done."""
    ids = store.accept([], [write_job("A1"), send_job("A2"), remind_job("A3"), send_job("A4")])
    owner = "runner"
    for job_id, outcome in zip(ids[1:], ("retry", "dead", "done"), strict=True):
        job = store.claim(owner, 30, job_id)
        if outcome == "retry":
            store.retry_later(job, 60, "99991400: too many requests (log_id 2026LOGA)")
        elif outcome == "dead":
            store.finish(job, "dead", "1002001: no permission (log_id 2026LOGB)")
        else:
            store.finish(job)
    store.clock.advance(90)
    return ids


def test_the_listing_shows_kind_assessment_state_attempts_error_code_log_id_and_age(store):
    ids = make_jobs(store)
    rows = store.list_jobs()
    assert [(r.id, r.kind, r.assessment_key, r.state, r.attempts, r.error_code, r.log_id, r.age) for r in rows] == [
        (ids[0], "write", "A1", "pending", 0, None, None, 90.0),
        (ids[1], "send", "A2", "retrying", 1, "99991400", "2026LOGA", 90.0),
        (ids[2], "remind", "A3", "dead", 1, "1002001", "2026LOGB", 90.0),
    ]
    assert [r.id for r in store.list_jobs("dead")] == [ids[2]]
    assert [r.id for r in store.list_jobs("retrying")] == [ids[1]]
    assert [r.id for r in store.list_jobs("pending")] == [ids[0]]
    assert [r.id for r in store.list_jobs(kind="send")] == [ids[1]]
    assert [r.id for r in store.list_jobs(limit=1)] == [ids[0]]
    assert admin.table(store.list_jobs("dead"), ZoneInfo("Asia/Shanghai"), store.clock()).splitlines() == [
        "ID  KIND    ASSESSMENT  STATE  ATTEMPTS  ERROR    LOG_ID    AGE  DUE (Asia/Shanghai)",
        f"{ids[2]:<2}  remind  A3          dead   1         1002001  2026LOGB  1m   -",
    ]


def test_the_listing_says_when_each_waiting_job_is_due_in_the_configured_time_zone(store):
    ids = make_jobs(store)  # now: 2026-11-25 17:48:10 in Shanghai
    [later] = store.accept([], [remind_job("A5", delay=3 * 3600)])
    rows = store.list_jobs()
    assert [r.id for r in rows] == [*ids[:3], later]
    lines = admin.table(rows, ZoneInfo("Asia/Shanghai"), store.clock()).splitlines()
    column = lines[0].index("DUE")
    assert [line[column:] for line in lines] == ["DUE (Asia/Shanghai)", "2026-11-25 17:46 (1m ago)",
                                                 "2026-11-25 17:47 (30s ago)", "-", "2026-11-25 20:48 (in 3h)"]
    assert admin.table(rows, ZoneInfo("UTC"), store.clock()).splitlines()[-1].endswith("2026-11-25 12:48 (in 3h)")


def test_retry_makes_dead_jobs_runnable_now_and_audits_it(store):
    ids = make_jobs(store)
    assert store.retry_jobs(None, "cli") == [ids[2]]
    job = store.job(ids[2])
    assert (job["status"], job["attempts"], job["run_after"]) == ("pending", 0, store.clock())
    assert store.claim("runner", 30, ids[2]) is not None
    entry = store.history("A3")[0]
    assert (entry.actor, entry.action, entry.result, entry.detail) == ("cli", "job_retry", "ok", {"job": ids[2]})


def test_retry_by_id_and_discard_refuse_what_they_cannot_touch(store):
    ids = make_jobs(store)
    assert store.retry_jobs([ids[3]], "cli") == []  # done
    assert store.discard_job(ids[3], "cli") is False
    assert store.discard_job(999, "cli") is False
    assert store.discard_job(ids[2], "cli") is True
    assert store.job(ids[2])["status"] == "discarded"
    assert store.dead_jobs() == 0
    entry = store.history("A3")[0]
    assert (entry.actor, entry.action, entry.detail) == ("cli", "job_discard", {"job": ids[2], "was": "dead"})
    assert [r.id for r in store.list_jobs("discarded")] == [ids[2]]


def test_the_command_lists_retries_and_discards(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    store = Store(database_url, FakeClock())
    store.create_schema()
    ids = make_jobs(store)

    def jobs(*argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser()
        admin.configure(parser)
        code = admin.run(parser.parse_args(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = jobs("--status", "dead")
    assert code == 0 and out.splitlines()[1].split()[:6] == [str(ids[2]), "remind", "A3", "dead", "1", "1002001"]
    assert jobs("retry", "--dead")[:2] == (0, f"retrying 1 job(s): {ids[2]}\n")
    assert jobs("discard", str(ids[3])) == (1, "", f"no pending or dead job {ids[3]} to discard\n")
    assert jobs("discard", str(ids[2]))[:2] == (0, f"discarded job {ids[2]}\n")
    assert jobs("--status", "dead")[1].splitlines()[-1] == "(no jobs)"
    store.dispose()


def test_readyz_reports_dead_jobs_and_stays_200(app, ctx, clock):
    """Dead jobs are for an operator to look at; only the database makes the instance unready."""
    [job_id] = ctx.store.accept([], [send_job("A9")])
    ctx.store.finish(ctx.store.claim("runner", 30, job_id), "dead", "1002001: no permission")
    clock.advance(5)
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 200
    assert {k: body[k] for k in ("status", "database", "backlog", "dead_jobs")} == {
        "status": "ok", "database": "ok", "backlog": 0, "dead_jobs": 1}


def test_readyz_counts_jobs_planned_for_later_apart_from_the_backlog(app, ctx, clock):
    """Reminders for tomorrow's interviews are not a stuck backlog; a job whose time came and went is."""
    ctx.store.accept([], [remind_job("T1", delay=86400), remind_job("T2", delay=90000),
                          send_job("A1", delay=60)])
    body = app.test_client().get("/readyz").get_json()
    assert {k: body[k] for k in ("backlog", "oldest_pending_seconds", "scheduled", "next_due_in_seconds")} == {
        "backlog": 0, "oldest_pending_seconds": 0.0, "scheduled": 3, "next_due_in_seconds": 60.0}
    clock.advance(660)
    body = app.test_client().get("/readyz").get_json()
    assert {k: body[k] for k in ("backlog", "oldest_pending_seconds", "scheduled", "next_due_in_seconds")} == {
        "backlog": 1, "oldest_pending_seconds": 600.0, "scheduled": 2, "next_due_in_seconds": 85740.0}


def test_a_job_waiting_to_try_again_stays_in_the_backlog_and_one_abandoned_by_its_runner_is_due(store):
    retrying, abandoned = store.accept([], [send_job("A1"), send_job("A2")])
    store.retry_later(store.claim("runner", 30, retrying), 300, "99991400: too many requests")
    store.claim("runner", 30, abandoned)  # its runner dies: another may take it once the lease ends
    store.clock.advance(100)
    assert store.backlog() == (2, 70.0)
    assert store.scheduled() == (0, None)
