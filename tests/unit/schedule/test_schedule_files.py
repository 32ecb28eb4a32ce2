"""Specifications of reading schedule files: encodings, formats, headers, and every problem with its place."""

from __future__ import annotations

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from bot.schedule.files import read_bytes, read_file
from bot.schedule.model import ScheduleRow as Assignment
from tests.support.ids import OPEN_ID, ROOT, SHANGHAI

RECRUITER = "ou_1f6b9a0c2e3d4f5a6b7c8d9e0f1a2b3c"
ENGLISH = "interview_id,assessment_id,interviewer,candidate,job,round,start,end,recruiter,application_id"
CHINESE = "面试ID,面评ID,面试官,候选人,职位,轮次,开始时间,结束时间,招聘负责人,投递ID"
ROW = ("7412358746023518273,7412358746023518301,Li.Na@Example.com,张伟,后端工程师,技术一面,"
       f"2026-12-07 10:00,2026-12-07 11:00,{RECRUITER},7412358746023518200")
FULL = Assignment(
    interview_id="7412358746023518273", feishu_assessment_id="7412358746023518301", interviewer="li.na@example.com",
    candidate="张伟", position="后端工程师", round="技术一面", start=datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI),
    end=datetime(2026, 12, 7, 11, 0, tzinfo=SHANGHAI), recruiter=RECRUITER, application_id="7412358746023518200")


def places(problems) -> list[tuple]:
    return [(p.row, p.column, p.en) for p in problems]


@pytest.mark.parametrize(("header", "encoding", "bom"), [
    (ENGLISH, "utf-8", b""),
    (ENGLISH, "utf-8", b"\xef\xbb\xbf"),
    (CHINESE, "utf-8", b"\xef\xbb\xbf"),
    (CHINESE, "gb18030", b""),
    (ENGLISH, "gb18030", b""),
])
def test_a_csv_is_read_in_every_encoding_spreadsheets_save(header, encoding, bom):
    """It reads UTF-8 with or without BOM and GB18030, with English or Chinese headers, every field."""
    data = bom + f"{header}\r\n{ROW}\r\n".encode(encoding)
    assert read_bytes(data, "csv", SHANGHAI) == ([FULL], [])


def test_gb18030_bytes_are_not_mistaken_for_utf8():
    """It falls back to GB18030 only when the bytes are not UTF-8, so Chinese names survive either way."""
    data = f"{ENGLISH}\n{ROW}\n".encode("gb18030")
    assert "张伟".encode("gb18030") in data and "张伟".encode() not in data
    (assignment,), _ = read_bytes(data, "csv", SHANGHAI)
    assert (assignment.candidate, assignment.round) == ("张伟", "技术一面")


def test_headers_ignore_case_spaces_and_underscores():
    """It matches 'Interview ID', 'INTERVIEWER', ' 开始时间 ' and full-width '面试　ＩＤ' to their fields."""
    data = ("Interview ID; INTERVIEWER ;候选人; 开始时间 ;End\n"
            "7412358746023518273;li.na@example.com;张伟;2026-12-07 10:00;2026-12-07 11:00\n").encode()
    (assignment,), problems = read_bytes(data, "csv", SHANGHAI)
    assert problems == []
    assert assignment.key == ("7412358746023518273", "li.na@example.com")
    wide = "面试　ＩＤ,面试 官,候选人,开始时间,结束时间\n1,li.na@example.com,张伟,2026-12-07 10:00,2026-12-07 11:00\n"
    assert read_bytes(wide.encode(), "csv", SHANGHAI)[1] == []


def test_a_tab_separated_utf16_export_is_read():
    """It reads Excel's 'Unicode text' export: UTF-16 with BOM, separated by tabs."""
    data = (CHINESE.replace(",", "\t") + "\n" + ROW.replace(",", "\t") + "\n").encode("utf-16")
    assert read_bytes(data, "csv", SHANGHAI) == ([FULL], [])


def test_an_xlsx_workbook_is_read_with_date_cells_and_numbers():
    """It reads the first sheet, date cells in the zone, numeric mobiles, and rows numbered as the sheet shows."""
    book = Workbook()
    sheet = book.active
    sheet.append(CHINESE.split(","))
    sheet.append(ROW.split(","))
    sheet.append([])
    sheet.append(["7412358746023518275", None, 13800138000, "王芳", "产品设计师", None,
                  datetime(2026, 12, 8, 9, 30), datetime(2026, 12, 8, 10, 30), None, None])
    sheet.append([7.412358746023518e18, None, OPEN_ID, "王芳", None, None,
                  datetime(2026, 12, 8, 9, 30), datetime(2026, 12, 8, 10, 30)])
    buffer = io.BytesIO()
    book.save(buffer)
    assignments, problems = read_bytes(buffer.getvalue(), "xlsx", SHANGHAI)
    assert assignments == [FULL, Assignment(
        interview_id="7412358746023518275", interviewer="+8613800138000", candidate="王芳", position="产品设计师",
        start=datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI), end=datetime(2026, 12, 8, 10, 30, tzinfo=SHANGHAI))]
    assert places(problems) == [(5, "面试ID", "the spreadsheet stored this id as a number and lost its last digits; "
                                             "format the column as text and enter it again.")]


def test_a_file_that_is_not_a_workbook_is_refused():
    """It says so when .xlsx bytes are not a workbook."""
    assert places(read_bytes(b"interview_id,candidate\n", "xlsx", SHANGHAI)[1]) == [
        (None, None, "This is not an Excel workbook that can be opened (expected .xlsx).")]


def _workbook_with_sheet(sheet: bytes | None = None, damage: int | None = None) -> bytes:
    """A one-row workbook with its sheet's XML replaced, or with a byte of its deflated sheet changed."""
    import zipfile

    book = Workbook()
    book.active.append(["interview_id", "candidate"])
    saved = io.BytesIO()
    book.save(saved)
    source, data = zipfile.ZipFile(saved), io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            out.writestr(name, sheet if sheet is not None and name == "xl/worksheets/sheet1.xml" else source.read(name))
    found = bytearray(data.getvalue())
    if damage is not None:
        at = found.index(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + damage
        found[at] ^= 0xFF
    return bytes(found)


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY e0 "lol">'
          + b"".join(b'<!ENTITY e%d "%s">' % (i, b"&e%d;" % (i - 1) * 10) for i in range(1, 10))
          + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e9;</t></is></c></row></sheetData></worksheet>')
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><worksheet '
            b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" '
            b't="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>')


@pytest.mark.parametrize("data", [_workbook_with_sheet(LAUGHS), _workbook_with_sheet(EXTERNAL),
                                  _workbook_with_sheet(b"<worksheet><sheetData><row"),
                                  _workbook_with_sheet(damage=40)],
                         ids=["billion laughs", "external entity", "broken xml", "damaged deflate"])
def test_a_workbook_whose_sheet_cannot_be_read_to_its_end_is_refused_not_raised(data):
    """The sheet is streamed, so bad XML, an entity bomb or damaged data showed only while reading, and the job
    reading it failed until it was dead; now it is the same answer as a file that is not a workbook."""
    from bot.schedule.files import count_rows

    assert places(read_bytes(data, "xlsx", SHANGHAI)[1]) == [
        (None, None, "This is not an Excel workbook that can be opened (expected .xlsx).")]
    assert count_rows(data, "xlsx", 100) == 0


def test_json_lines_with_every_field_and_chinese_keys():
    """It reads one object per line, keys in English or Chinese, numbers as ids, blank lines skipped."""
    english = dict(zip(ENGLISH.split(","), ROW.split(","), strict=True))
    chinese = dict(zip(CHINESE.split(","), ROW.split(","), strict=True))
    chinese.update({"面试ID": 7412358746023518274, "开始时间": "2026-12-07T10:00:00+08:00"})
    data = (json.dumps(english, ensure_ascii=False) + "\n\n" + json.dumps(chinese, ensure_ascii=False) + "\n").encode()
    assignments, problems = read_bytes(data, "jsonl", SHANGHAI)
    assert problems == []
    assert assignments[0] == FULL
    assert assignments[1].interview_id == "7412358746023518274"
    assert assignments[1].start == FULL.start


BAD_ROWS = "\n".join([
    ENGLISH + ",notes",
    ROW + ",fine",                                                                   # 2 good
    ",,li.na@example.com,张伟,,,2026-12-07 10:00,2026-12-07 11:00,,",                 # 3 no interview id
    "1001,,li.na@example.com,张伟,,,next monday,2026-12-07 11:00,,",                  # 4 bad time
    "1002,,li.na@example.com,张伟,,,2026-12-07 10:00,2026-12-07 09:00,,",             # 5 ends before start
    "1003,,Li Na,张伟,,,2026-12-07 10:00,2026-12-07 11:00,,",                         # 6 interviewer format
    "",                                                                               # 7 blank, still counted
    "7412358746023518273,,LI.NA@example.com,张伟,,,2026-12-07 10:00,2026-12-07 11:00,,",  # 8 duplicate of 2
    "1004,,li.na@example.com, ,,,2026-12-07 10:00,2026-12-07 11:00,,",                # 9 no candidate
    "1005,,li.na@example.com,张伟,,,2026-12-07T10:00+09:75,2026-12-07 11:00,,",       # 10 bad offset
    "1006,,li.na@example.com,张伟,,,2026-02-30 10:00,2026-12-07 11:00,13800138000,",  # 11 no such day; mobile recruiter
    "1007,61 02,li.na@example.com,张伟,,,2026-12-07 10:00,,,",                        # 12 bad assessment id; no end
    "1008,,li.na@example.com,张伟,,,2026-12-07 10:00,2026-12-07 11:00,,,,surplus",    # 13 more cells than header
])


def test_a_file_with_every_kind_of_bad_row_reports_each_with_row_and_column():
    """It lists every problem with the row as a spreadsheet numbers it and the column as the file names it."""
    assignments, problems = read_bytes(BAD_ROWS.encode(), "csv", SHANGHAI)
    assert [a.interview_id for a in assignments] == ["7412358746023518273", "1008"]
    assert places(problems) == [
        (1, "notes", "unknown column, ignored."),
        (3, "interview_id", "is empty."),
        (4, "start", "'next monday' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00."),
        (5, "end", "ends before the interview starts (2026-12-07 10:00)."),
        (6, "interviewer", "'Li Na' is not an open_id (ou_…), an email or a mobile number."),
        (8, "interviewer", "same interview and interviewer as row 2 (interview id 7412358746023518273)."),
        (9, "candidate", "is empty."),
        (10, "start", "the UTC offset +09:75 in '2026-12-07T10:00+09:75' is not valid "
                      "(from -14:00 to +14:00, e.g. +08:00)."),
        (11, "start", "'2026-02-30 10:00' is not a real date or time."),
        (11, "recruiter", "'13800138000' is not an open_id (ou_…) or an email."),
        (12, "assessment_id", "'61 02' is not an id (use digits, letters, _ or -)."),
        (12, "end", "is empty."),
        (13, None, "this row has more cells than the header; the extra cells are ignored."),
    ]
    assert [p.warning for p in problems].count(True) == 2
    assert all(p.zh and p.zh != p.en for p in problems)
    assert str(problems[5]) == ("第 8 行，“interviewer”：与第 2 行是同一场面试的同一位面试官"
                                "（面试 ID 7412358746023518273）。 / "
                                "Row 8, 'interviewer': same interview and interviewer as row 2 "
                                "(interview id 7412358746023518273).")


def test_bad_json_lines_are_reported_by_line():
    """It reports a line that is not JSON, one not an object, an empty field, a key twice; it reads the rest."""
    good = {"interview_id": "1", "interviewer": OPEN_ID, "candidate": "张伟",
            "start": "2026-12-07 10:00", "end": "2026-12-07 11:00"}
    missing = {key: value for key, value in good.items() if key != "candidate"} | {"候选人 ": None}
    lines = [json.dumps(good), '{"interview_id": "2", ', "[1, 2]", json.dumps(missing | {"interview_id": "3"}),
             json.dumps(good | {"interviewer": "li.na@example.com", "feedback_url": "x", "Interviewer": OPEN_ID})]
    assignments, problems = read_bytes("\n".join(lines).encode(), "jsonl", SHANGHAI)
    assert [a.key for a in assignments] == [("1", OPEN_ID)]
    assert places(problems) == [
        (2, None, "not valid JSON (Expecting property name enclosed in double quotes at character 23)."),
        (3, None, "not a JSON object ({…})."),
        (4, "候选人 ", "is empty."),
        (5, "feedback_url", "unknown column, ignored."),
        (5, "Interviewer", "is given twice."),
    ]
    assert {p.place for p in problems} == {"line"}
    assert problems[0].en_text.startswith("Line 2: not valid JSON")


def test_missing_and_unknown_columns_are_reported_once():
    """It names a missing required column and an unknown one once, not once per row."""
    data = ("interview_id,interviewer,start,end,intervewer,notes\n"
            + "1,li.na@example.com,2026-12-07 10:00,2026-12-07 11:00,x,y\n" * 3).encode()
    assignments, problems = read_bytes(data, "csv", SHANGHAI)
    assert assignments == []
    assert places(problems) == [
        (1, "intervewer", "unknown column, ignored. Did you mean 'interviewer'?"),
        (1, "notes", "unknown column, ignored."),
        (1, "candidate", "the required column is missing (candidate or 候选人)."),
    ]


def test_a_column_named_twice_is_a_problem():
    """It refuses a header that names one field in two columns (here in both languages)."""
    data = f"{ENGLISH},候选人\n{ROW},李四\n".encode()
    assignments, problems = read_bytes(data, "csv", SHANGHAI)
    assert assignments == []
    assert places(problems) == [(1, "候选人", "appears twice; keep one column.")]


@pytest.mark.parametrize(("data", "kind", "place"), [
    (b"", "csv", "row"),
    (b"\xef\xbb\xbf\r\n , \r\n", "csv", "row"),
    (b"\n\n", "jsonl", "line"),
    (b"", "json", "item"),
    (b"[]", "json", "item"),
])
def test_an_empty_file_says_there_is_nothing_in_it(data, kind, place):
    """It reports an empty file as one problem with no row."""
    assert [(p.row, p.en, p.place) for p in read_bytes(data, kind, SHANGHAI)[1]] == [
        (None, "There are no interviews in it.", place)]


def test_a_header_without_rows_has_nothing_in_it():
    """It reports a header with no interviews under it."""
    assert places(read_bytes(f"{ENGLISH}\n\n".encode(), "csv", SHANGHAI)[1]) == [
        (None, None, "There are no interviews in it.")]


def test_bytes_in_no_known_encoding_are_refused():
    """It asks for CSV UTF-8 when the bytes are neither UTF-8 nor GB18030."""
    assert places(read_bytes(b"\x81\x30\xff\xfe\x00", "csv", SHANGHAI)[1]) == [
        (None, None, "The file's text encoding is not UTF-8 or GB18030; save it as 'CSV UTF-8'.")]


def test_files_are_read_by_their_ending(tmp_path):
    """It picks the reader from the file's ending and refuses endings it cannot read."""
    (tmp_path / "plan.CSV").write_bytes(f"{ENGLISH}\n{ROW}\n".encode())
    (tmp_path / "plan.json").write_text(json.dumps([dict(zip(ENGLISH.split(","), ROW.split(","), strict=True))]))
    (tmp_path / "plan.xls").write_bytes(b"")
    assert read_file(tmp_path / "plan.CSV", SHANGHAI) == ([FULL], [])
    assert read_file(tmp_path / "plan.json", SHANGHAI) == ([FULL], [])
    assert places(read_file(tmp_path / "plan.xls", SHANGHAI)[1]) == [
        (None, None, "Files ending in '.xls' cannot be read "
                     "(use .csv, .json, .jsonl, .ndjson, .tsv, .txt, .xlsm, .xlsx).")]
    absent = read_file(tmp_path / "absent.csv", SHANGHAI)[1]
    assert places(absent) == [(None, None, "The file cannot be read: there is no such file.")]


def test_the_shipped_example_schedule_is_accepted_as_is():
    """It reads config/schedule.example.csv without a single problem, one row without an assessment id."""
    assignments, problems = read_file(ROOT / "config" / "schedule.example.csv", SHANGHAI)
    assert problems == []
    assert len(assignments) == 5
    assert [a.feishu_assessment_id is None for a in assignments].count(True) == 1
    assert {a.interviewer_kind for a in assignments} == {"email", "mobile", "open_id"}
    assert all(a.start < a.end for a in assignments)


@pytest.mark.parametrize(("make", "zh", "en"), [
    (lambda p: p / "missing.csv", "无法读取文件：没有这个文件。", "The file cannot be read: there is no such file."),
    (lambda p: (p / "folder.csv").mkdir() or p / "folder.csv", "无法读取文件：这是一个文件夹。",
     "The file cannot be read: it is a folder."),
])
def test_a_file_that_cannot_be_read_is_explained_in_each_language(tmp_path, make, zh, en):
    rows, [problem] = read_file(make(tmp_path), ZoneInfo("Asia/Shanghai"))
    assert rows == [] and (problem.zh, problem.en) == (zh, en)
