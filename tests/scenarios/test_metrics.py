"""/metrics: Prometheus text with the bot's counters after a scripted run, for local scrapers only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from tests.support.jobs import remind_job, send_job


def samples(app) -> dict[tuple[str, tuple], float]:
    response = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200
    assert response.content_type == metrics.CONTENT_TYPE
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_a_scripted_run_is_counted(app, push, ctx, feishu):
    """Two acknowledgements, one re-push (a dedup hit), a PATCH and a reply to Feishu, jobs done by kind."""
    before = samples(app)
    push.message("/assess 6930815272790114324 pass", event_id="ev-metrics-1")
    push.message("/assess 6930815272790114324 pass", event_id="ev-metrics-1")  # Feishu's re-push
    push.message("/help", event_id="ev-metrics-2", message_id="om_help")
    ctx.runner.drain()
    after = samples(app)
    assert delta(before, after, "assessbot_acknowledgements_total", outcome="200") == 3
    assert delta(before, after, "assessbot_acknowledgement_seconds_count") == 3
    assert delta(before, after, "assessbot_dedup_hits_total") == 1
    assert delta(before, after, "assessbot_openapi_calls_total", endpoint="patch_assessment", code="0",
                 status="200") == 1
    assert delta(before, after, "assessbot_openapi_call_seconds_count", endpoint="patch_assessment") == 1
    assert after[("assessbot_jobs", (("kind", "write"), ("state", "done")))] == 1
    assert after[("assessbot_jobs", (("kind", "send"), ("state", "done")))] >= 1
    for name in ("assessbot_rate_limit_waits_total", "assessbot_reminders_sent_total"):
        assert (name, ()) in after


def test_metrics_are_not_served_through_a_proxy_or_to_other_hosts(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                      headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404




def test_jobs_planned_for_later_are_scheduled_not_pending(app, ctx, clock):
    """A reminder for tomorrow is not a job waiting to run: an alert on pending jobs must not fire for it."""
    ctx.store.accept([], [remind_job("T1", delay=86400), send_job("A1")])
    clock.advance(30)
    found = samples(app)
    assert {key: value for key, value in found.items() if key[0].startswith("assessbot_jobs")} == {
        ("assessbot_jobs", (("kind", "remind"), ("state", "scheduled"))): 1,
        ("assessbot_jobs", (("kind", "send"), ("state", "pending"))): 1,
        ("assessbot_jobs_oldest_due_seconds", ()): 30.0}
