"""assessbot export: a sheet a recruiter opens (CSV), and the assessments and audit trail as stored (JSON lines)."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.cli import export
from bot.store import Store
from bot.store.schema import assessments
from tests.support.clock import FakeClock
from tests.support.ids import ALICE, BOB, ROOT, SHANGHAI

DAY = 86400.0
STATE = {"comment": "思路清晰, \"quoted\"\nline"}  # what CSV must quote
INTERVIEW = "7412358746023518273"
FEISHU_ID = "7412358746023518301"  # the assessment Feishu created for it
TYPED = "6930815272790114324"  # an assessment named by its Feishu id in /assess, with no schedule


def fill(store: Store) -> list[dict]:
    """Two assessments and two audit entries a day apart; what the export must hold."""
    start = store.clock()
    with store.transaction() as conn:
        conn.execute(assessments.insert(), [
            {"assessment_key": "A1", "owner": "ou_a", "state": json.dumps(STATE),
             "applied_version": 2, "next_version": 2, "updated_at": start},
            {"assessment_key": "A2", "owner": None, "state": "{}", "applied_version": 0, "next_version": 1,
             "updated_at": start + DAY}])
    store.record("ou_a", "A1", "write", "ok", {"fields": {"conclusion": [None, "pass"]}}, log_id="LOG1")
    store.clock.advance(DAY)
    store.record("cli", "A2", "job_retry", "ok", {"job": 7})
    return [
        {"record": "assessment", "assessment_key": "A1", "owner": "ou_a", "state": STATE,
         "applied_version": 2, "at": start},
        {"record": "assessment", "assessment_key": "A2", "owner": None, "state": {}, "applied_version": 0,
         "at": start + DAY},
        {"record": "audit", "id": 1, "at": start, "actor": "ou_a", "assessment_key": "A1", "action": "write",
         "result": "ok", "detail": {"fields": {"conclusion": [None, "pass"]}}, "log_id": "LOG1"},
        {"record": "audit", "id": 2, "at": start + DAY, "actor": "cli", "assessment_key": "A2", "action": "job_retry",
         "result": "ok", "detail": {"job": 7}, "log_id": None},
    ]


def record_interviews(store: Store) -> None:
    """An interview from the schedule, written through the form; one typed by id; one accepted but never written."""
    at = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).timestamp()
    store.upsert_assignments([{"interview_id": INTERVIEW, "interviewer": ALICE, "candidate": "张伟",
                               "position": "Backend Engineer", "round": "Technical 1", "start_at": at,
                               "end_at": at + 3600, "recruiter": BOB, "application_id": "7412358746023518200"}],
                             lambda after, before: (None, []))
    [assignment] = store.find_assignments(INTERVIEW)
    store.learn_feishu_id(assignment.key, FEISHU_ID)
    written = {"conclusion": 2, "username": "李娜", "content": "=HYPERLINK(\"http://evil.example\",\"click\")",
               "dimensions": {"coding": 4, "design": 3, "level": "P5", "strengths": ["算法", "架构"], "legacy": 2}}
    typed = {"conclusion": 1, "content": "-3 on design\n+1 for tests", "dimensions": {"coding": 2}}
    with store.transaction() as conn:  # the import made the interview's row, owned by its interviewer
        conn.execute(update(assessments).where(assessments.c.assessment_key == assignment.key).values(
            state=json.dumps(written, ensure_ascii=False), applied_version=2, next_version=2))
        conn.execute(assessments.insert(), [
            {"assessment_key": TYPED, "owner": BOB, "state": json.dumps(typed), "applied_version": 1,
             "next_version": 1, "updated_at": store.clock()},
            {"assessment_key": "6930815272790114399", "owner": BOB, "state": "{}", "applied_version": 0,
             "next_version": 1, "updated_at": store.clock()}])
    store.record(ALICE, assignment.key, "write", "ok", {"version": 1})
    store.clock.advance(600)
    store.record(ALICE, assignment.key, "write", "ok", {"version": 2})
    store.record(BOB, TYPED, "write", "ok", {"version": 1})


@pytest.fixture
def store(database_url, monkeypatch, tmp_path) -> Store:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ASSESSBOT_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("ASSESSBOT_RUBRIC", str(ROOT / "config" / "rubric.toml"))
    store = Store(database_url, FakeClock())
    store.create_schema()
    yield store
    store.dispose()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    export.configure(parser)
    code = export.run(parser.parse_args(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_csv_is_a_sheet_a_recruiter_reads(store, capsys):
    record_interviews(store)
    code, out, err = run(capsys, "--format", "csv", "--lang", "en")
    assert (code, err) == (0, "exported 2 assessments\n")
    assert list(csv.reader(io.StringIO(out))) == [
        ["Interview ID", "Feishu assessment ID", "Candidate", "Position", "Round", "Interview start (Asia/Shanghai)",
         "Interview end (Asia/Shanghai)", "Interviewer", "Interviewer open_id", "Conclusion", "Coding",
         "System design", "Communication", "Suggested level", "Strengths", "Interview notes", "legacy", "Comment",
         "Last submitted (Asia/Shanghai)", "Application ID"],
        [INTERVIEW, FEISHU_ID, "张伟", "Backend Engineer", "Technical 1", "2026-11-25 10:00:00", "2026-11-25 11:00:00",
         "李娜", ALICE, "Pass", "4", "3", "", "P5", "Algorithms, Architecture", "", "2",
         "'=HYPERLINK(\"http://evil.example\",\"click\")", "2026-11-25 17:56:40", "7412358746023518200"],
        ["", TYPED, "", "", "", "", "", "", BOB, "Fail", "2", "", "", "", "", "", "", "'-3 on design\n+1 for tests",
         "2026-11-25 17:56:40", ""],
    ]


def test_the_csv_speaks_chinese_when_asked(store, capsys):
    record_interviews(store)
    rows = list(csv.reader(io.StringIO(run(capsys, "--format", "csv", "--lang", "zh")[1])))
    assert rows[0] == ["面试ID", "面评ID", "候选人", "职位", "轮次", "面试开始（Asia/Shanghai）",
                       "面试结束（Asia/Shanghai）", "面试官", "面试官 open_id", "结论", "编码能力", "系统设计",
                       "沟通表达", "建议职级", "亮点", "面试记录", "legacy", "评语", "最后提交（Asia/Shanghai）",
                       "投递ID"]
    assert (rows[1][9], rows[1][14], rows[2][9]) == ("通过", "算法、架构", "不通过")


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("a=1", "a=1"), ("张伟", "张伟"), ("", ""),
])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_shown_as_text(cell, shown):
    assert export.safe(cell) == shown


def test_a_csv_file_opens_in_excel_with_its_chinese_intact(store, capsys, tmp_path):
    record_interviews(store)
    out = tmp_path / "feedback.csv"  # the suffix chooses the format
    assert run(capsys, "--output", str(out), "--lang", "zh")[:2] == (0, "")
    data = out.read_bytes()
    assert data.startswith("\ufeff面试ID,面评ID".encode())
    assert "张伟" in data.decode("utf-8-sig")


def test_since_keeps_assessments_last_submitted_on_or_after_that_day(store, capsys):
    record_interviews(store)
    day = datetime.fromtimestamp(store.clock(), UTC).date()
    assert len(list(csv.reader(io.StringIO(run(capsys, "--format", "csv", "--since", day.isoformat())[1])))) == 3
    later = day.replace(day=day.day + 1).isoformat()
    assert run(capsys, "--format", "csv", "--since", later)[1].count("\n") == 1  # the heading only


def test_the_raw_export_reads_back_as_the_database_held_it(store, capsys, tmp_path):
    expected = fill(store)
    out = tmp_path / "export.jsonl"
    assert run(capsys, "--output", str(out))[:3] == (0, "", "exported 4 records\n")
    with open(out, encoding="utf-8") as source:
        assert export.read(source) == expected


def test_since_keeps_what_changed_on_or_after_that_day(store, capsys, tmp_path):
    expected = fill(store)
    day = datetime.fromtimestamp(expected[1]["at"], UTC)
    out = tmp_path / "since.jsonl"
    assert run(capsys, "--since", day.date().isoformat(), "--output", str(out))[0] == 0
    assert export.read(io.StringIO(out.read_text("utf-8"))) == [expected[1], expected[3]]


def test_a_large_export_says_how_far_it_got(store, capsys, tmp_path, monkeypatch):
    fill(store)
    monkeypatch.setattr(export, "PROGRESS_EVERY", 2)
    code, _, err = run(capsys, "--output", str(tmp_path / "x.jsonl"))
    assert (code, err.splitlines()) == (0, ["exported 2/4 (50%)", "exported 4/4 (100%)", "exported 4 records"])


def test_a_bad_day_is_refused_with_the_format(capsys):
    parser = argparse.ArgumentParser()
    export.configure(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--since", "yesterday"])
    assert "not a day: 'yesterday' (write YYYY-MM-DD)" in capsys.readouterr().err
