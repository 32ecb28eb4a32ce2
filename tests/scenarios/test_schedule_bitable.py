"""A Bitable the bot follows: read in pages of 500 within the shared pace, its value shapes taken as a file's cells,
rows that leave the table cancelled (not deleted), each record's state written back one write at a time per base,
refusals recorded rather than retried forever, sooner reads on the record-changed event, `assessbot import <URL>`."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from bot import queue_start_jobs
from bot.contract import NewJob, SyncTable, WriteStatus
from bot.schedule.bitable import NotATable, cell, read_table, status_text, table_of
from tests.support.ids import ADMIN, BOB, SHANGHAI, load_payload, make_settings
from tests.support.imports import import_env, run_import

APP, TABLE = "bascnAbCdEfGhIjKlMnOpQrStUv", "tblSchedule0001"
URL = f"https://example.feishu.cn/base/{APP}?table={TABLE}&view=vewAll0001"
SOURCE = f"bitable:{APP}:{TABLE}"
LI_NA, CHEN = "ou_lina0001", "ou_chen0001"
BULK = "ou_bulk0001"
NAMES = {LI_NA: "李娜", CHEN: "陈杰", BULK: "赵磊"}  # as the contact directory names them (Bob's: "Bob Li")
FIELDS = [{"field_id": "fldId", "field_name": "面试ID", "type": 1},
          {"field_id": "fldWho", "field_name": "面试官", "type": 11},
          {"field_id": "fldName", "field_name": "候选人", "type": 1},
          {"field_id": "fldJob", "field_name": "职位", "type": 3},
          {"field_id": "fldStart", "field_name": "开始时间", "type": 5},
          {"field_id": "fldEnd", "field_name": "结束时间", "type": 5},
          {"field_id": "fldStatus", "field_name": "状态", "type": 3},
          {"field_id": "fldNotes", "field_name": "备注", "type": 1},
          {"field_id": "fldOut", "field_name": "面评状态", "type": 1}]


def local(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()


def ms(text: str) -> int:
    return int(local(text) * 1000)


def segments(*texts: str) -> list[dict]:
    return [{"type": "text", "text": t} for t in texts]


RECORDS = {
    "recLiNa": {"面试ID": segments("7412358746023518273"), "候选人": segments("张", "伟"), "职位": "后端工程师",
                "面试官": [{"id": LI_NA, "name": "李娜", "en_name": "Li Na", "email": "li.na@example.com"}],
                "开始时间": ms("2026-12-07 13:00"), "结束时间": ms("2026-12-07 14:00"), "备注": segments("带电脑")},
    "recTwo": {"面试ID": 1003, "候选人": "王芳", "面试官": [{"id": CHEN, "name": "陈杰"}, {"id": BOB, "name": "Bob"}],
               "开始时间": ms("2026-12-08 10:00"), "结束时间": ms("2026-12-08 11:00")},
    "recOff": {"面试ID": segments("7412358746023518275"), "面试官": [{"id": LI_NA}], "状态": "已取消"},
    "recBad": {"面试ID": segments("7412358746023518276"),
               "面试官": [{"type": "mention", "mentionType": "User", "token": LI_NA, "name": "李娜"}],
               "候选人": segments("李雷"), "开始时间": ms("2026-12-09 10:00"), "结束时间": segments("soon")},
}


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,), assessbot_schedule_bitable=(URL,))


class Table:
    """The followed table as the Open API stand-in holds it, and what the bot asked of it (as the bot sent it)."""

    def __init__(self, feishu):
        self.feishu, self.api = feishu, feishu.api

    def put(self, records: dict[str, dict], fields: list[dict] | None = None) -> None:
        """The table now holds these records (and these fields; by default those it has)."""
        fields = self.api.bitables.table(APP, TABLE)["fields"] if fields is None else fields
        self.api.put_table(APP, TABLE, copy.deepcopy(fields), copy.deepcopy(records))

    @property
    def records(self) -> dict[str, dict]:
        """The records as the table holds them now (a copy)."""
        return self.api.bitables.table(APP, TABLE)["records"]

    def searches(self) -> list[tuple[str, dict]]:
        """Each records/search as (query string, body), as the bot sent it."""
        return [(c.request.url.split("?", 1)[1], json.loads(c.request.body or "{}"))
                for c in self.feishu.calls("POST", "/records/search")]

    def updates(self) -> list[tuple[str, dict]]:
        """Each record update as (record_id, body), in order (refused ones included)."""
        return [(c["path"].rsplit("/", 1)[1], c["body"]) for c in self.api.calls("record_update")]


@pytest.fixture
def table(feishu, clock) -> Table:
    clock.now = local("2026-12-07 15:00")  # a Monday afternoon: recLiNa ended an hour ago
    feishu.api.add_users(NAMES)
    feishu.api.put_table(APP, TABLE, copy.deepcopy(FIELDS), copy.deepcopy(RECORDS))
    return Table(feishu)


def read(ctx) -> None:
    """A read asked for now (as the record-changed event asks), and everything it brings."""
    ctx.store.accept([], [NewJob(SyncTable(url=URL))])
    ctx.runner.drain()


def mine(ctx, person: str):
    return [(a.interview_id, a.record_id, a.stopped) for a in ctx.store.assignments_of(person)]


def test_links_name_a_base_and_table_or_a_wiki_node():
    assert table_of(URL) == table_of(URL)
    found = table_of(URL)
    assert (found.app_token, found.table_id, found.view_id, found.key) == (APP, TABLE, "vewAll0001", SOURCE)
    wiki = table_of("https://example.feishu.cn/wiki/wikcnNode0001?table=tblX1&view=vewY")
    assert (wiki.app_token, wiki.wiki, wiki.table_id) == (None, "wikcnNode0001", "tblX1")
    with pytest.raises(NotATable, match="names no table"):
        table_of(f"https://example.feishu.cn/base/{APP}")
    with pytest.raises(NotATable, match="is not a Bitable link"):
        table_of("https://example.feishu.cn/docx/doxcnAbc")


@pytest.mark.parametrize(("value", "field_type", "expected"), [
    (segments("7412", "358"), 1, "7412358"),
    ([{"type": "url", "text": "li.na@example.com", "link": "mailto:li.na@example.com"}], 1, "li.na@example.com"),
    ([{"type": "mention", "mentionType": "User", "token": LI_NA, "name": "李娜"}], 1, LI_NA),
    (1675526400000, 5, datetime(2023, 2, 4, 16, 0, tzinfo=UTC)),
    (1003, 2, 1003),
    ("已取消", 3, "已取消"),
    (["算法", "架构"], 4, "算法, 架构"),
    ([{"id": LI_NA, "name": "李娜"}], 11, LI_NA),
    ([{"id": LI_NA}, {"id": CHEN}], 11, [LI_NA, CHEN]),
    ({"text": "HR", "link": "https://x"}, 15, "HR"),
    (None, 1, None),
])
def test_bitable_value_shapes_become_a_files_cells(value, field_type, expected):
    assert cell(value, field_type) == expected


def test_a_table_reads_like_a_file_with_one_row_per_person_of_a_person_field():
    read = read_table(FIELDS, [{"record_id": rid, "fields": f} for rid, f in RECORDS.items()], SHANGHAI)
    assert [(a.interview_id, a.interviewer, a.candidate) for a in read.assignments] == [
        ("7412358746023518273", LI_NA, "张伟"), ("1003", CHEN, "王芳"), ("1003", BOB, "王芳")]
    assert [(c.interview_id, c.interviewer) for c in read.assignments.cancelled] == [("7412358746023518275", LI_NA)]
    assert [(p.row, p.column, p.en) for p in read.problems] == [
        (4, "结束时间", "'soon' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00.")]
    assert read.records == {1: "recLiNa", 2: "recTwo", 3: "recOff", 4: "recBad"}
    assert read.status_field == "面评状态"


def test_values_of_shapes_no_schedule_column_holds_are_problems_of_their_rows_not_a_crash():
    # each of these raised out of read_table, so the job reading the table failed again and again
    base = RECORDS["recTwo"]
    odd = [{**base, "开始时间": 1e20}, {**base, "开始时间": float("nan")}, {**base, "结束时间": -(10**20)},
           {**base, "候选人": [{"type": "text", "text": "王\ud800芳"}]}, {**base, "面试官": [{"id": "ou_\udfff"}]},
           "not a record", {"record_id": "recX", "fields": ["not", "a", "mapping"]}]
    read = read_table([*FIELDS, "not a field", {"field_name": "链接", "type": ["not", "a", "type"]}],
                      [f if isinstance(f, str) else {"record_id": f"rec{n}", "fields": f} for n, f in enumerate(odd)],
                      SHANGHAI)
    assert sorted({p.row for p in read.problems if not p.warning}) == [1, 2, 3, 5, 6, 7]
    assert [(a.candidate, a.interviewer) for a in read.assignments] == [("王\ufffd芳", CHEN), ("王\ufffd芳", BOB)]


def test_a_table_without_a_required_column_is_one_problem_of_the_table():
    read = read_table([f for f in FIELDS if f["field_name"] != "结束时间"], [], SHANGHAI)
    assert [(p.row, p.column, p.en) for p in read.problems] == [
        (None, "end", "the required column is missing (end or 结束时间).")]


def test_the_followed_table_is_taken_in_and_each_row_gets_its_state(ctx, table, feishu):
    read(ctx)
    assert table.searches() == [("page_size=500&user_id_type=open_id", {"view_id": "vewAll0001"})]
    assert mine(ctx, LI_NA) == [("7412358746023518273", "recLiNa", None)]
    assert mine(ctx, CHEN) == mine(ctx, BOB) == [("1003", "recTwo", None)]
    reminder = [json.loads(c.request.body) for c in feishu.calls("POST", "receive_id_type=open_id")]
    assert [r["receive_id"] for r in reminder] == [LI_NA]  # the interview that ended an hour ago
    assert table.updates() == [("recLiNa", {"fields": {"面评状态": "已提醒"}}),
                               ("recTwo", {"fields": {"面评状态": "陈杰：等待反馈；Bob Li：等待反馈"}})]
    assert ctx.store.source(SOURCE).error == "1 row(s) with problems were left out"
    read(ctx)  # nothing changed: nothing written again
    assert len(table.updates()) == 2 and len(table.searches()) == 2


def test_a_submission_shows_in_the_table_with_its_conclusion(ctx, table, push):
    read(ctx)
    push.message("/assess 7412358746023518273 fail", sender=LI_NA)
    ctx.runner.drain()
    assert table.records["recLiNa"]["面评状态"] == "已提交（不通过）"


def test_records_are_read_in_pages_of_five_hundred_within_the_pace(ctx, table, clock):
    records = table.records
    for n in range(1100):
        records[f"recBulk{n:04d}"] = {"面试ID": segments(f"9{n:05d}"), "面试官": [{"id": BULK}],
                                      "候选人": segments(f"候选人{n}"), "开始时间": ms("2026-12-10 10:00"),
                                      "结束时间": ms("2026-12-10 11:00")}
    table.put(records, [f for f in FIELDS if f["field_name"] != "面评状态"])  # no write-back: reading only
    read(ctx)
    assert [query for query, _ in table.searches()] == [
        "page_size=500&user_id_type=open_id", "page_size=500&user_id_type=open_id&page_token=500",
        "page_size=500&user_id_type=open_id&page_token=1000"]
    assert len(ctx.store.source_assignments(SOURCE)) == 1103


def test_rows_that_leave_the_table_are_cancelled_not_deleted_but_an_empty_read_cancels_nothing(ctx, table, feishu):
    read(ctx)
    records = table.records
    del records["recTwo"]
    table.put(records)
    read(ctx)
    assert mine(ctx, CHEN) == [("1003", "recTwo", "cancelled")] and mine(ctx, LI_NA)[0][2] is None
    table.put({})
    read(ctx)
    assert mine(ctx, LI_NA)[0][2] is None  # a table read as empty is not taken at its word
    # The status of the row that left could not be written (the record is gone): tried once, and nothing else failed
    feishu.expect_refused = True
    assert [(c["path"].rsplit("/", 1)[1], c["code"]) for c in feishu.refused()] == [("recTwo", 1254043)]
    assert ctx.store.source(SOURCE).error is None



def test_the_status_is_written_one_record_at_a_time_and_a_failed_write_resumes_where_it_stopped(
        ctx, table, clock, feishu):
    feishu.api.fault("record_update", "error", status=500, code=1254290, after=1)  # the second write fails
    read(ctx)
    clock.advance(5)  # the back-off after the refused write (500)
    ctx.runner.drain()
    assert [rid for rid, _ in table.updates()] == ["recLiNa", "recTwo", "recTwo"]  # what was written is not again
    retried = [ctx.store.job(n) for n in range(1, 40) if (ctx.store.job(n) or {}).get("kind") == "table-status"
               and ctx.store.job(n)["attempts"] > 1]
    assert [(job["status"], job["attempts"]) for job in retried] == [("done", 2)]
    assert "dead" not in ctx.store.jobs_by_status()


def test_one_base_is_written_by_one_job_at_a_time(ctx, table, clock):
    read(ctx)
    records = table.records
    records["recTwo"]["面评状态"] = "edited by hand"
    table.put(records)
    ctx.store.status_written(SOURCE, "recTwo", "stale")
    from bot.jobs.bitable import _digest

    assert ctx.store.hold_lease(f"status:{_digest(APP)}", "another runner", 120.0, {})
    ctx.store.accept([], [NewJob(WriteStatus(source=SOURCE))])
    ctx.runner.drain()
    assert len(table.updates()) == 2  # the base is being written: it comes back after the holder
    ctx.store.release_lease(f"status:{_digest(APP)}", "another runner", {})
    clock.advance(20)
    ctx.runner.drain()
    assert table.updates()[-1] == ("recTwo", {"fields": {"面评状态": "陈杰：等待反馈；Bob Li：等待反馈"}})


def without_scope(feishu) -> None:
    feishu.api.fault("fields", "no_scope")  # 400, 99991672


def not_shared(feishu) -> None:
    feishu.api.put_table(APP, TABLE, copy.deepcopy(FIELDS), copy.deepcopy(RECORDS), shared=False)  # 403, 91403
    feishu.expect_refused = True  # Feishu refuses on purpose here (the test checks it refused that alone)


@pytest.mark.parametrize(("refuse", "code", "says"), [
    (without_scope, 99991672,
     "the app lacks the scope bitable:app:readonly (or base:record:retrieve and base:field:read)."),
    (not_shared, 91403,
     "the base is not shared with the app. To share it, in the base, open … → More → Add document app"),
], ids=["no-scope", "not-shared"])
def test_a_refused_read_is_recorded_and_logged_not_retried_every_minute(ctx, table, feishu, refuse, code, says,
                                                                        logs):
    refuse(feishu)
    read(ctx)
    assert [c["code"] for c in feishu.api.calls() if c["code"] not in (0, None)] == [code]  # that refusal alone
    assert says in ctx.store.source(SOURCE).error
    assert ctx.store.jobs_by_status() == {"done": 1} and ctx.store.assignments_of(LI_NA) == []
    assert APP not in logs.getvalue() and "table not read" in logs.getvalue()


def test_the_start_plans_one_chain_of_periodic_reads(ctx, table, clock):
    queue_start_jobs(ctx)
    queue_start_jobs(ctx)  # every process tries; one read of the slot
    ctx.runner.drain()
    assert len(table.searches()) == 1
    waiting = [ctx.store.job(n) for n in range(1, 40) if (ctx.store.job(n) or {}).get("kind") == "table-sync"
               and ctx.store.job(n)["status"] == "pending"]
    slot = 600.0
    assert [(job["run_after"], job["payload"]) for job in waiting] == [
        ((clock() // slot + 1) * slot, SyncTable(url=URL, period=slot))]
    clock.now = waiting[0]["run_after"]
    ctx.runner.drain()
    assert len(table.searches()) == 2


def test_the_record_changed_event_reads_the_table_soon_once_per_window(ctx, table, push, clock):
    read(ctx)
    event = load_payload("drive_file_bitable_record_changed_v1.json")
    event["event"].update(file_token=APP, table_id=TABLE)
    event["header"]["token"] = ctx.settings.feishu_verification_token
    assert push.post(event).status_code == 200
    again = copy.deepcopy(event)
    again["header"]["event_id"] = "another-event"
    assert push.post(again).status_code == 200
    ctx.runner.drain()
    assert len(table.searches()) == 1  # not yet: after the window
    clock.advance(13)
    ctx.runner.drain()
    assert len(table.searches()) == 2
    other = copy.deepcopy(event)
    other["header"]["event_id"], other["event"]["table_id"] = "third-event", "tblSomebodyElse"
    push.post(other)
    clock.advance(13)
    ctx.runner.drain()
    assert len(table.searches()) == 2  # a table the bot does not read


def test_assessbot_import_of_a_link_reads_the_table_once(monkeypatch, database_url, tmp_path, table, feishu):
    import_env(monkeypatch, database_url)
    code, out = run_import(tmp_path, URL, "--dry-run")
    assert (code, out.splitlines()) == (1, [
        "✗ Row 4, '结束时间': 'soon' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00.",
        "  第 4 行，“结束时间”：“soon”不是时间；请写成 2026-12-01 14:00 或 2026-12-01T14:00:00+08:00。",
        f"table {TABLE}: 1 problem; nothing was imported. Fix the rows above and import again, or pass "
        "--skip-invalid to import the rest.",
        f"  table {TABLE}：发现 1 个问题，没有导入任何内容。请修改后重新导入，或加上 --skip-invalid 导入其余各行。"])
    code, out = run_import(tmp_path, URL, "--skip-invalid")
    assert code == 0 and f"table {TABLE}: 3 new, 0 updated, 1 unchanged." in out.splitlines()
    assert status_text([("李娜", "submitted", ("通过", "Pass"))], "en") == "submitted (pass)"


def test_a_followed_link_naming_no_table_stops_the_start_without_repeating_its_token(monkeypatch, tmp_path):
    from bot.settings import SettingsError, load

    import_env(monkeypatch, f"sqlite:///{tmp_path / 'x.db'}", ASSESSBOT_SCHEDULE_BITABLE=f"https://x.feishu.cn/base/{APP}")
    with pytest.raises(SettingsError) as refused:
        load(None)
    assert "ASSESSBOT_SCHEDULE_BITABLE has a link that names no table" in str(refused.value)
    assert APP not in str(refused.value)
    monkeypatch.setenv("ASSESSBOT_SCHEDULE_BITABLE", f"{URL} https://x.feishu.cn/wiki/wikcnNode0001?table=tblW")
    settings = load(None)
    assert len(settings.assessbot_schedule_bitable) == 2
    assert {APP, "wikcnNode0001"} <= set(settings.secret_values())  # the log scrubber's: never written out
