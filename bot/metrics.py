"""Prometheus metrics: what the bot counts, and /metrics' text, summed over gunicorn's workers.

Under gunicorn, config/gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at an emptied directory before the app
is imported, so each worker writes its own files there and a scrape of any worker adds them all up. Jobs by
kind and state are read from the database at scrape time (they are shared by every process and instance).
"""

from __future__ import annotations

import os
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

ACKS = Counter("assessbot_acknowledgements_total", "Pushes answered, by outcome (HTTP status)", ["outcome"])
ACK_SECONDS = Histogram("assessbot_acknowledgement_seconds", "Time to answer a push", buckets=_FAST)
OPENAPI = Counter("assessbot_openapi_calls_total", "Open API calls by endpoint, Feishu code and HTTP status",
                  ["endpoint", "code", "status"])
OPENAPI_SECONDS = Histogram("assessbot_openapi_call_seconds", "Open API call latency", ["endpoint"],
                            buckets=_FAST + (10.0,))
RATE_WAITS = Counter("assessbot_rate_limit_waits_total", "Times a call waited for the shared rate limit")
REMINDERS = Counter("assessbot_reminders_sent_total", "Reminder cards sent to interviewers")
DEDUP_HITS = Counter("assessbot_dedup_hits_total", "Pushes already handled (Feishu's re-pushes), not redone")


class JobCounts(Protocol):
    """Where the jobs are counted (the store): the metrics import nothing of the bot's."""

    def jobs_by_kind_and_state(self) -> dict[tuple[str, str], int]: ...
    def backlog(self) -> tuple[int, float]: ...


class _Jobs:
    """assessbot_jobs{kind, state} and the longest wait of a due job: the jobs table at scrape time."""

    def __init__(self, store: JobCounts):
        self.store = store

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily("assessbot_jobs", "Jobs by kind and state (scheduled: planned for later)",
                                   labels=["kind", "state"])
        for (kind, state), count in sorted(self.store.jobs_by_kind_and_state().items()):
            family.add_metric([kind, state], count)
        yield family
        yield GaugeMetricFamily("assessbot_jobs_oldest_due_seconds", "How long the job waiting longest since its run "
                                "time has waited (0: none waits)", value=self.store.backlog()[1])


def render(store: JobCounts) -> bytes:
    """The exposition text: this process's (or every worker's) counters, then the jobs from the database."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        counters = generate_latest(REGISTRY)
    jobs = CollectorRegistry()
    jobs.register(_Jobs(store))
    return counters + generate_latest(jobs)


def openapi_result(code: int | None, status: int | None) -> tuple[str, str]:
    """The code and status labels of one call: Feishu's code (or "none") and the HTTP status (or "none")."""
    return ("none" if code is None else str(code)), ("none" if status is None else str(status))
