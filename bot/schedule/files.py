"""Schedule files — CSV, XLSX, JSON Lines and JSON — read into assignments and a list of problems."""

from __future__ import annotations

import csv
import io
import json
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal

from bot.feishu.security import is_unicode
from bot.schedule.model import ScheduleRow
from bot.schedule.validation import (
    Problem,
    columns_of,
    empty,
    in_order,
    validate_mappings,
    validate_records,
    validate_rows,
)

Kind = Literal["csv", "xlsx", "jsonl", "json"]
KINDS: dict[str, Kind] = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".json": "json",
}
Result = tuple[list[ScheduleRow], list[Problem]]
# What a file sent in chat may be (a schedule's kinds but JSON, which is the intake API's, and .xlsm, which may
# carry macros); anything else is answered, not downloaded.
CHAT_KINDS: dict[str, Kind] = {".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_COLUMNS = 200  # cells read per row of a workbook: a schedule has a dozen; a hostile sheet may have 16,384


def unreadable(exc: OSError) -> tuple[str, str]:
    """Why a file could not be read, in each language (not the system's English words in a Chinese line)."""
    import errno

    reasons = {errno.ENOENT: ("没有这个文件", "there is no such file"),
               errno.EACCES: ("没有读取权限", "permission to read it is denied"),
               errno.EPERM: ("没有读取权限", "permission to read it is denied"),
               errno.EISDIR: ("这是一个文件夹", "it is a folder"),
               errno.ENAMETOOLONG: ("文件名太长", "the name is too long")}
    return reasons.get(exc.errno or 0, ("系统错误 " + (exc.strerror or type(exc).__name__),
                                        "system error: " + (exc.strerror or type(exc).__name__)))


def read_file(path: str | Path, zone: tzinfo) -> Result:
    """Read a schedule file of any supported kind, chosen by its name's ending."""
    path = Path(path)
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(KINDS))
        return [], [Problem(None, None, f"不支持的文件类型“{path.suffix}”（支持 {known}）。",
                            f"Files ending in '{path.suffix}' cannot be read (use {known}).")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        zh, en = unreadable(exc)
        return [], [Problem(None, None, f"无法读取文件：{zh}。", f"The file cannot be read: {en}.")]
    return read_bytes(data, kind, zone)


def read_bytes(data: bytes, kind: Kind, zone: tzinfo) -> Result:
    """Read a schedule from the bytes of a file of the given kind."""
    return {"csv": read_csv, "xlsx": read_xlsx, "jsonl": read_jsonl, "json": read_json}[kind](data, zone)


def decode(data: bytes) -> str | None:
    """Text from UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 as spreadsheets in China save it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


_UNREADABLE = Problem(None, None, "无法识别文件编码；请另存为“CSV UTF-8”。",
                      "The file's text encoding is not UTF-8 or GB18030; save it as 'CSV UTF-8'.")


def read_csv(data: bytes, zone: tzinfo) -> Result:
    """A CSV (comma, semicolon or tab separated) whose first non-blank row names the columns."""
    text = decode(data)
    if text is None:
        return [], [_UNREADABLE]
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;", key=first.count)
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1))
    except csv.Error as exc:
        return [], [Problem(None, None, f"CSV 格式有误：{exc}。", f"The CSV is malformed: {exc}.")]
    return _table(rows, zone)


def read_xlsx(data: bytes, zone: tzinfo) -> Result:
    """The first sheet of an Excel workbook, whose first non-blank row names the columns."""
    import zlib
    from xml.etree.ElementTree import ParseError
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unopenable = (BadZipFile, InvalidFileException, KeyError, OSError, ValueError, EOFError, IndexError, ParseError,
                  zlib.error)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unopenable:
        return [], [_UNOPENABLE]
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size, which would cut rows off
        # read-only mode streams the sheet; data_only takes the values Excel saved, so no formula is ever evaluated
        rows = [(number, list(values)) for number, values in
                enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)]
    except unopenable:  # the sheet is streamed: a damaged member, bad XML or an entity bomb shows only now
        return [], [_UNOPENABLE]
    finally:
        book.close()
    return _table(rows, zone)


_UNOPENABLE = Problem(None, None, "无法打开这个 Excel 文件（应为 .xlsx）。",
                      "This is not an Excel workbook that can be opened (expected .xlsx).")


def read_jsonl(data: bytes, zone: tzinfo) -> Result:
    """JSON Lines: one object per line, keys named like the columns; blank lines are skipped."""
    text = decode(data)
    if text is None:
        return [], [_UNREADABLE]
    records: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(number, None, f"不是有效的 JSON（第 {exc.colno} 个字符：{exc.msg}）。",
                                    f"not valid JSON ({exc.msg} at character {exc.colno}).", "line"))
        except (RecursionError, ValueError):  # nested too deep, or an integer of more digits than Python reads
            problems.append(_too_deep(number))
        else:
            if not is_unicode(record, line):
                problems.append(_not_text(number))
            else:
                records.append((number, record))
    if not records and not problems:
        return [], [empty("line")]
    assignments, found = validate_mappings(records, zone, "line")
    return assignments, in_order(problems + found)


def read_json(data: bytes, zone: tzinfo) -> Result:
    """A JSON list of objects, as the intake API takes it."""
    text = decode(data)
    if text is None:
        return [], [_UNREADABLE]
    if not text.strip():
        return [], [empty("item")]
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(exc.lineno, None, f"不是有效的 JSON（第 {exc.colno} 个字符：{exc.msg}）。",
                            f"not valid JSON ({exc.msg} at character {exc.colno}).", "line")]
    except (RecursionError, ValueError):
        return [], [_too_deep(None)]
    if not is_unicode(records, text):
        return [], [_not_text(None)]
    return validate_records(records, zone)


def _too_deep(line: int | None) -> Problem:
    return Problem(line, None, "JSON 嵌套过深或数字过长，无法读取。",
                   "the JSON is nested too deep or holds a number too long to read.", "line")


def _not_text(line: int | None) -> Problem:
    return Problem(line, None, "JSON 中有无效的文字（单独的 \\ud800 类代理字符）。",
                   "the JSON holds text that is not valid Unicode (a lone \\ud800-style surrogate).", "line")


def _table(rows: list[tuple[int, list[Any]]], zone: tzinfo) -> Result:
    """Rows of cells, the first non-blank one a header, validated with numbers as a spreadsheet shows them."""
    rows = [(number, cells) for number, cells in rows if any(_filled(cell) for cell in cells)]
    if not rows:
        return [], [empty()]
    (header_row, header), body = rows[0], rows[1:]
    fields, problems = columns_of([_header(cell) for cell in header], header_row)
    names = {field: _header(header[index]) for index, field in fields.items()}
    records = []
    for number, cells in body:
        if any(_filled(cell) for cell in cells[len(header):]):
            problems.append(Problem(number, None, "这一行的单元格比标题行多；多出的内容会被忽略。",
                                    "this row has more cells than the header; the extra cells are ignored.",
                                    warning=True))
        values = {field: cells[index] if index < len(cells) else None for index, field in fields.items()}
        records.append((number, values, names))
    if not body:
        problems.append(empty())
    missing = {p.field for p in problems if p.field and p.field not in fields.values()}
    assignments, found = validate_rows(records, zone, skip=missing)
    if any(p.row == header_row and not p.warning for p in problems):
        assignments = []  # with a column missing or doubled, no row can be trusted
    return assignments, in_order(problems + found)


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _header(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def kind_of(file_name: str, kinds: dict[str, Kind] = KINDS) -> Kind | None:
    """The kind of schedule a file's name says it is (None: not one)."""
    return kinds.get(Path(file_name).suffix.lower())


def unpacked_size(data: bytes) -> int | None:
    """The bytes an XLSX (a zip) unpacks to, as its directory says; None when it is not a zip at all.

    A workbook's shared strings are read whole into memory, so a small file that unpacks to gigabytes (a zip bomb)
    is refused before openpyxl opens it.
    """
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (BadZipFile, OSError, ValueError):
        return None


def count_rows(data: bytes, kind: Kind, at_most: int) -> int:
    """How many non-blank rows follow the first (the header; for JSON Lines, every non-blank line counts), counting
    no further than `at_most` + 1: enough to tell a large file from a small one before checking it."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # an unreadable workbook: reading it says why
            return 0
        count = 0
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                count += any(_filled(cell) for cell in values)
                if count > at_most + 1:
                    break
        except Exception:  # a sheet that cannot be streamed to its end: reading it says why
            return 0
        finally:
            book.close()
        return max(count - 1, 0)
    text = decode(data) or ""
    count = 0
    for line in text.splitlines():
        count += bool(line.strip())
        if count > at_most + 1:
            break
    return count if kind == "jsonl" else max(count - 1, 0)
