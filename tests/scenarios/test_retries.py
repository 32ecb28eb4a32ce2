"""Fault injection on the write path: the retry table, the rate limit, token refresh, stale retries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.contract import Job
from bot.feishu.client import FeishuError
from bot.jobs.retry import MAX_ATTEMPTS, GiveUp, Retry, backoff, decide
from bot.store import rate_hits
from tests.support.ids import AID, ALICE


def job(attempts: int = 1, age: float = 0.0) -> Job:
    return Job(1, "write", AID, 1, {}, "start", attempts, 1000.0 - age, "owner")


@pytest.mark.parametrize("error,verdict", [
    (FeishuError(1002001, "system error", status=500), Retry(2.0)),
    (FeishuError(1020001, "system error", status=500), Retry(2.0)),
    (FeishuError(2200, "internal error", status=500), Retry(2.0)),
    (FeishuError(None, "timed out waiting for Feishu"), Retry(2.0)),
    (FeishuError(5, "bad gateway", status=502), Retry(2.0)),
    (FeishuError(1002002, "参数错误", status=400), GiveUp("rejected by Feishu")),
    (FeishuError(99991672, "scope missing", status=400), GiveUp("rejected by Feishu")),
    (FeishuError(230001, "invalid parameter", status=400), GiveUp("rejected by Feishu")),
    (FeishuError(99991400, "too fast", status=429, reset=3), Retry(3.5, count_attempt=False)),
    (FeishuError(99991400, "too fast (legacy)", status=400, reset=7), Retry(7.5, count_attempt=False)),
    (FeishuError(99991663, "invalid access token", status=400), Retry(0.0)),
])
def test_the_retry_table(error, verdict):
    assert decide(error, job(), now=1000.0, rand=lambda low, high: high) == verdict


def test_transient_failures_give_up_after_five_attempts_or_ten_minutes():
    error = FeishuError(1002001, "system error", status=500)
    assert isinstance(decide(error, job(attempts=MAX_ATTEMPTS), 1000.0), GiveUp)
    assert isinstance(decide(error, job(attempts=2, age=599), 1000.0, rand=lambda lo, hi: hi), GiveUp)


def test_backoff_is_full_jitter_under_a_doubling_cap():
    assert [backoff(n, lambda low, high: high) for n in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, 32.0]
    samples = {round(backoff(3), 6) for _ in range(200)}
    assert len(samples) > 100 and all(0 <= s <= 8.0 for s in samples)


def test_transient_failures_then_success_make_one_effect_with_growing_jittered_gaps(push, feishu, ctx, clock):
    feishu.api.fault("patch", "drop")  # taken first: a connection lost before any answer
    feishu.api.fault("patch", "error", status=500, code=1002001)
    feishu.api.fault("patch", "error", status=500, code=1020001, msg="System error")
    push.message(f"/assess {AID} pass")
    times = []
    for _ in range(400):
        before = len(feishu.patches())
        ctx.runner.drain()
        if len(feishu.patches()) > before:
            times.append(clock())
        clock.advance(0.25)
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 4 and gaps == [2.0, 4.0, 8.0]  # rand pinned to the cap: 2·2^(n-1)
    assert len(feishu.sent_cards()) == 1 and ctx.store.jobs_by_status() == {"done": 1}
    audit = [(e.result, e.detail.get("code"), e.log_id) for e in reversed(ctx.store.history(AID))]
    logs = [c["log_id"] for c in feishu.api.calls("patch")]
    assert audit == [("retry", None, None), ("retry", 1002001, logs[1]), ("retry", 1020001, logs[2]),
                     ("ok", None, logs[3])]


def test_a_rate_limit_answer_makes_the_next_attempt_wait_for_the_reset(push, feishu, ctx, clock):
    feishu.api.fault("patch", "ratelimit", status=429, limit=20, reset=3)
    push.message(f"/assess {AID} pass")
    ctx.runner.drain()
    first = clock()
    assert len(feishu.patches()) == 1
    clock.advance(2.9)
    ctx.runner.drain()
    assert len(feishu.patches()) == 1
    clock.advance(0.7)
    ctx.runner.drain()
    assert len(feishu.patches()) == 2 and clock() - first >= 3
    assert ctx.store.jobs_by_status() == {"done": 1}


def test_a_rejected_token_is_refreshed_once_and_the_call_retried_once(push, feishu, ctx):
    feishu.api.fault("patch", "error", status=400, code=99991663, msg="Invalid access token for authorization.")
    push.message(f"/assess {AID} pass")
    ctx.runner.drain()
    tokens = feishu.calls("POST", "tenant_access_token")
    assert len(tokens) == 2 and len(feishu.patches()) == 2
    assert ctx.store.jobs_by_status() == {"done": 1}


def test_a_stale_retry_after_a_newer_success_is_discarded(push, feishu, ctx, clock):
    feishu.api.fault("patch", "error", status=500, code=1002001)
    push.message(f"/assess {AID} fail coding=2", message_id="om_v1")
    ctx.runner.drain()  # v1 fails and waits
    push.message(f"/assess {AID} pass", message_id="om_v2")
    ctx.runner.drain()  # v2 goes first, carrying v1's fields too
    clock.advance(60)
    ctx.runner.drain()  # v1's timer fires: nothing left to write
    bodies = feishu.patches()
    assert bodies[1:] == [{"conclusion": 2, "assessment_dimension_list": [
        {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力", "score": 2}]}]
    assert len(bodies) == 2
    assert sorted(c["uuid"] for c in feishu.sent_cards()) == ["om_v1:c", "om_v2:c"]
    assert ctx.store.known(AID).state.conclusion == 2


def test_a_crash_after_the_patch_and_before_done_resends_once_and_confirms_once(push, feishu, ctx, clock):
    push.message(f"/assess {AID} pass", message_id="om_c")
    job = ctx.store.claim("crashing-runner", lease=60)
    ctx.feishu.patch_assessment(AID, {"conclusion": 2})  # the PATCH went out; the runner died right after
    clock.advance(61)
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}, {"conclusion": 2}]  # full state again: harmless
    assert [c["uuid"] for c in feishu.sent_cards()] == ["om_c:c"]
    assert job.id == 1 and ctx.store.jobs_by_status() == {"done": 1}


def test_a_write_costs_the_runner_four_write_transactions_claim_call_start_call_end_and_record_with_done(
        push, feishu, ctx):
    """Once the bot knows the submitter's name: looking it up for the first time adds one, to keep it."""
    ctx.store.remember_names({ALICE: "Alice Zhang"})
    push.message(f"/assess {AID} pass", message_id="om_t")
    opened = []
    transaction = ctx.store.transaction
    ctx.store.transaction = lambda urgent=False: (opened.append(urgent), transaction(urgent))[1]
    assert ctx.runner.drain() == 1
    assert opened == [False, False, False, False]
    assert feishu.patches() == [{"conclusion": 2}] and ctx.store.jobs_by_status() == {"done": 1}
    assert ctx.store.known(AID).applied_version == 1
    assert [e.result for e in ctx.store.history(AID)] == ["ok"]


def test_a_confirmation_that_fails_is_retried_without_patching_again(push, feishu, ctx, clock):
    feishu.api.fault("reply", "error", status=500, code=2200, msg="internal error")
    push.message(f"/assess {AID} pass", message_id="om_r")
    ctx.runner.drain()
    row = ctx.store.job(1)
    assert (row["status"], row["stage"]) == ("pending", "notify")  # the write is recorded before the retry
    assert ctx.store.known(AID).applied_version == 1
    clock.advance(60)
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}]
    assert [c["uuid"] for c in feishu.sent_cards()] == ["om_r:c", "om_r:c"]  # refused, then sent: one uuid
    assert ctx.store.jobs_by_status() == {"done": 1}


def test_a_patch_counts_against_the_limit_from_its_start_to_its_answer(push, feishu, ctx, clock):
    push.message(f"/assess {AID} pass", message_id="om_late")
    job = ctx.store.claim("runner", 60)
    clock.advance(0.5)  # the runner was held up between its claim and the call: it changes nothing
    ctx.runner.execute(job)
    with ctx.store.transaction() as conn:
        calls = conn.execute(select(rate_hits.c.at, rate_hits.c.ended_at)).all()
    assert calls == [(clock(), clock())] and feishu.patches() == [{"conclusion": 2}]
