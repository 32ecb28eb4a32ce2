"""/metrics across processes: counters of several gunicorn workers add up."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def test_counters_from_several_processes_add_up(tmp_path):
    """What gunicorn's workers count, each in its own process, is summed by a scrape of any one of them."""
    import subprocess
    import sys

    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    count = "from bot import metrics; metrics.ACKS.labels('200').inc({n}); metrics.DEDUP_HITS.inc()"
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True, timeout=60)
    scrape = ("from bot import metrics\n"
              "class Empty:\n    def jobs_by_kind_and_state(self): return {('write', 'dead'): 1}\n"
              "    def backlog(self): return (3, 42.5)\n"
              "print(metrics.render(Empty()).decode())")
    text = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, timeout=60, capture_output=True,
                          text=True).stdout
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for family in text_string_to_metric_families(text) for s in family.samples}
    assert found[("assessbot_acknowledgements_total", (("outcome", "200"),))] == 5
    assert found[("assessbot_dedup_hits_total", ())] == 2
    assert found[("assessbot_jobs", (("kind", "write"), ("state", "dead")))] == 1
    assert found[("assessbot_jobs_oldest_due_seconds", ())] == 42.5
