"""assessbot export: assessments and the audit trail out as JSON lines or CSV, and back in unchanged."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime

import pytest

from bot import export
from bot.store import Store
from bot.store.schema import assessments
from tests.support.clock import FakeClock

DAY = 86400.0
STATE = {"comment": "思路清晰, \"quoted\"\nline"}  # what CSV must quote


def fill(store: Store) -> list[dict]:
    """Two assessments and two audit entries a day apart; what the export must hold."""
    start = store.clock()
    with store.transaction() as conn:
        conn.execute(assessments.insert(), [
            {"assessment_id": "A1", "owner": "ou_a", "state": json.dumps(STATE),
             "applied_version": 2, "next_version": 2, "updated_at": start},
            {"assessment_id": "A2", "owner": None, "state": "{}", "applied_version": 0, "next_version": 1,
             "updated_at": start + DAY}])
    store.record("ou_a", "A1", "write", "ok", {"fields": {"conclusion": [None, "pass"]}}, log_id="LOG1")
    store.clock.advance(DAY)
    store.record("cli", "A2", "job_retry", "ok", {"job": 7})
    return [
        {"record": "assessment", "assessment_id": "A1", "owner": "ou_a", "state": STATE,
         "applied_version": 2, "at": start},
        {"record": "assessment", "assessment_id": "A2", "owner": None, "state": {}, "applied_version": 0,
         "at": start + DAY},
        {"record": "audit", "id": 1, "at": start, "actor": "ou_a", "assessment_id": "A1", "action": "write",
         "result": "ok", "detail": {"fields": {"conclusion": [None, "pass"]}}, "log_id": "LOG1"},
        {"record": "audit", "id": 2, "at": start + DAY, "actor": "cli", "assessment_id": "A2", "action": "job_retry",
         "result": "ok", "detail": {"job": 7}, "log_id": None},
    ]


@pytest.fixture
def store(database_url, monkeypatch) -> Store:
    monkeypatch.setenv("DATABASE_URL", database_url)
    store = Store(database_url, FakeClock())
    store.create_schema()
    yield store
    store.dispose()


def run(tmp_path, capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    export.configure(parser)
    code = export.run(parser.parse_args(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_reads_back_as_the_database_held_it(store, tmp_path, capsys, fmt):
    expected = fill(store)
    out = tmp_path / f"export.{fmt}"
    assert run(tmp_path, capsys, "--format", fmt, "--output", str(out)) == (0, "exported 4 records\n")
    with open(out, encoding="utf-8", newline="") as source:
        rows = export.read(fmt, source)
    if fmt == "csv":  # CSV has no null: an empty cell reads back as absent
        expected = [{k: v for k, v in row.items() if v is not None} for row in expected]
    assert rows == expected


def test_since_keeps_what_changed_on_or_after_that_day(store, tmp_path, capsys):
    expected = fill(store)
    day = datetime.fromtimestamp(expected[1]["at"], UTC)
    out = tmp_path / "since.jsonl"
    assert run(tmp_path, capsys, "--since", day.date().isoformat(), "--output", str(out))[0] == 0
    assert export.read("jsonl", io.StringIO(out.read_text("utf-8"))) == [expected[1], expected[3]]


def test_a_large_export_says_how_far_it_got(store, tmp_path, capsys, monkeypatch):
    fill(store)
    monkeypatch.setattr(export, "PROGRESS_EVERY", 2)
    code, err = run(tmp_path, capsys, "--output", str(tmp_path / "x.jsonl"))
    assert (code, err.splitlines()) == (0, ["exported 2/4 (50%)", "exported 4/4 (100%)", "exported 4 records"])


def test_a_bad_day_is_refused_with_the_format(capsys):
    parser = argparse.ArgumentParser()
    export.configure(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--since", "yesterday"])
    assert "not a day: 'yesterday' (write YYYY-MM-DD)" in capsys.readouterr().err
