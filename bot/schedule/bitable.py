"""A Feishu Bitable (多维表格) as a schedule: its link, its records read as a file's rows, and the status the bot
writes back. Pure: the calls are bot/feishu/client.py's, the reading and writing are jobs' (bot/jobs/bitable.py).

Records come from `records/search` keyed by field name, in Bitable's value shapes
(https://open.feishu.cn/document/docs/bitable-v1/app-table-record/bitable-record-data-structure-overview): text as a
list of segments, numbers, dates as Unix milliseconds, single selects as their option's name, people as a list of
`{id, name, …}` (the id an open_id). A person field naming several interviewers is one row per interviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.schedule.validation import Problem, columns_of, field_of, in_order, is_written, validate_rows

DATE_TYPES = frozenset({5, 1001, 1002})  # date, created time, modified time: Unix milliseconds
PAGE = 500  # records/search's largest page
_TOKEN = re.compile(r"[0-9A-Za-z_-]{1,64}")
_CJK = re.compile(r"[\u3400-\u9fff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotATable(ValueError):
    """A link that does not name a Bitable's table; the message says how to get one that does."""


@dataclass(frozen=True)
class Table:
    """One table of a base: `app_token` (the `…/base/<app_token>` of its link), or a wiki node to resolve first."""

    url: str
    table_id: str
    app_token: str | None = None
    wiki: str | None = None  # a `…/wiki/<node>` link: the base is the node's object
    view_id: str | None = None

    @property
    def key(self) -> str:
        """The schedule source the table's assignments are tagged with (known once the base is)."""
        if self.app_token is None:
            raise ValueError("a wiki link's base is not known yet")
        return f"bitable:{self.app_token}:{self.table_id}"

    def in_base(self, app_token: str) -> Table:
        """The same table, its wiki node resolved to the base."""
        return Table(self.url, self.table_id, app_token, None, self.view_id)


def table_of(url: str) -> Table:
    """The table a link names: `https://…/base/<app_token>?table=<table_id>[&view=…]`, or `…/wiki/<node>?table=…`."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    kind = next((s for s in segments if s in ("base", "wiki")), None)
    token = segments[segments.index(kind) + 1] if kind and segments.index(kind) + 1 < len(segments) else ""
    if kind is None or not _TOKEN.fullmatch(token):  # the link is not repeated: it holds the base's token
        raise NotATable("is not a Bitable link (…/base/<app_token>?table=<table_id>, or a wiki link to one)")
    table = (query.get("table") or [""])[0]
    if not _TOKEN.fullmatch(table):
        raise NotATable("names no table: open the table in Feishu and copy the link from the address bar (it ends "
                        "in ?table=tbl…)")
    view = (query.get("view") or [None])[0]
    view = view if view and _TOKEN.fullmatch(view) else None
    if kind == "wiki":
        return Table(url.strip(), table, None, token, view)
    return Table(url.strip(), table, token, None, view)


def is_table_link(text: str) -> bool:
    """Whether a command-line argument is a Bitable link rather than a file's path."""
    return text.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Read:
    """A table read as a schedule: assignments and problems as a file's, and which record each row came from."""

    assignments: list
    problems: list[Problem]
    records: dict[int, str]  # row number -> record_id
    status_field: str | None  # the column the bot writes each row's state into, if the table has one


def read_table(fields: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]], zone) -> Read:  # noqa: ANN001
    """The table's records as validated rows, numbered from 1 in the order read (the view's, when the link names
    one); columns are found by the same names as a file's, and a missing required column is a problem of the table."""
    types = {text(str(f.get("field_name"))): f.get("type") for f in fields
             if isinstance(f, Mapping) and f.get("field_name")}
    names = list(types)
    columns, problems = columns_of(names, None, "row")
    problems = [p for p in problems if not p.warning]  # a table's other columns are its owners' business
    status = next((name for name in names if is_written(name)), None)
    by_field = {field: names[index] for index, field in columns.items()}
    numbered: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    numbers: dict[int, str] = {}
    for number, record in enumerate(records, start=1):
        record = record if isinstance(record, Mapping) else {}
        cells = record.get("fields")
        cells = cells if isinstance(cells, Mapping) else {}
        numbers[number] = text(str(record.get("record_id") or ""))
        values = {field: cell(cells.get(name), types.get(name)) for field, name in by_field.items()}
        for person in _people(values.pop("interviewer", None)):
            numbered.append((number, {**values, "interviewer": person}, by_field))
    if any(p.row is None for p in problems):
        return Read([], in_order(problems), numbers, status)
    missing = {p.field for p in problems if p.field}
    assignments, found = validate_rows(numbered, zone, "row", skip=missing)
    return Read(assignments, in_order(problems + found), numbers, status)


def _people(value: object) -> list[object]:
    """An interviewer cell as one value per person (a person field may name several)."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return [value]


def cell(value: object, field_type: object = None) -> object:
    """A record's value as a file's cell: text segments joined, dates as times, people as their open_ids, single
    selects as their name; what no schedule column can hold is passed on for the validation to name. Text is made
    Unicode: a lone surrogate (which a browser may store and JSON carry) becomes U+FFFD."""
    found = _cell(value, field_type)
    if isinstance(found, str):
        return text(found)
    if isinstance(found, list):
        return [text(v) if isinstance(v, str) else v for v in found]
    return found


def text(value: str) -> str:
    """The text with each lone surrogate replaced by U+FFFD, so it can be stored, compared and shown."""
    return _SURROGATE.sub("\ufffd", value)


def _cell(value: object, field_type: object) -> object:
    if value is None:
        return None
    if isinstance(field_type, int) and field_type in DATE_TYPES and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):  # NaN, or beyond the years a datetime holds
            return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):  # a link field: {text, link}
        return value["text"]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        if all("id" in v and "text" not in v for v in value):  # people: [{id, name, en_name, email, …}]
            ids = [str(v["id"]) for v in value if v.get("id")]
            return ids if len(ids) != 1 else ids[0]
        if all("text" in v or "type" in v for v in value):  # text segments
            return "".join(_segment(v) for v in value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):  # a multiple select
        return ", ".join(value)
    return value


def _segment(segment: Mapping[str, Any]) -> str:
    """One text segment as text: a mention of a person is their open_id (the token), anything else its text."""
    if segment.get("type") == "mention" and str(segment.get("token", "")).startswith("ou_"):
        return str(segment["token"])
    return str(segment.get("text") or segment.get("name") or "")


def gone(running: Iterable[Any], records: Mapping[int, str], named: set[str]) -> list[tuple[str, str]]:
    """The (interview, interviewer) of assignments a table gave whose record is no longer in it and whose interview
    no row names: they are cancelled. `running` are the table's assignments still running."""
    present = set(records.values())
    return [(a.interview_id, a.interviewer) for a in running
            if a.record_id not in present and a.interview_id not in named]


# The states the bot writes back: (zh, en).
STATES: dict[str, tuple[str, str]] = {
    "waiting": ("等待反馈", "waiting"),
    "reminded": ("已提醒", "reminded"),
    "overdue": ("已逾期", "overdue"),
    "submitted": ("已提交", "submitted"),
    "cancelled": ("已取消", "cancelled"),
    "withdrawn": ("已撤回", "withdrawn"),
    "not_mine": ("非本人面试", "not theirs"),
}


def state_of(assignment: Any) -> str:
    """An assignment's state as the table shows it: submitted, stopped (why), overdue (the recruiter was told),
    reminded, or waiting."""
    if assignment.submitted_at is not None:
        return "submitted"
    if assignment.stopped is not None:
        return assignment.stopped if assignment.stopped in STATES else "cancelled"
    if assignment.escalated_at is not None:
        return "overdue"
    return "reminded" if assignment.first_reminded_at is not None else "waiting"


def language_of(field_name: str) -> str:
    """The status column's language: Chinese when its name is (面评状态), else English (feedback status)."""
    return "zh" if _CJK.search(field_name) else "en"


def status_text(parts: Sequence[tuple[str, str, tuple[str, str] | None]], lang: str) -> str:
    """One record's status: (interviewer's name, state, conclusion (zh, en) when submitted) for each of its people;
    the name is left out when the record has one interviewer."""
    said = []
    for name, state, conclusion in parts:
        zh, en = STATES[state]
        word = zh if lang == "zh" else en
        if conclusion is not None:
            word += f"（{conclusion[0]}）" if lang == "zh" else f" ({conclusion[1].lower()})"
        said.append(word if len(parts) == 1 else (f"{name}：{word}" if lang == "zh" else f"{name}: {word}"))
    return ("；" if lang == "zh" else "; ").join(said)


def field_names(fields: Iterable[Mapping[str, Any]]) -> list[str]:
    """The columns of a table's field list."""
    return [str(f["field_name"]) for f in fields if f.get("field_name")]


def known_columns(names: Iterable[str]) -> dict[str, str]:
    """Which schedule field each column holds (for a summary of what was found)."""
    return {name: field for name in names if (field := field_of(name)) is not None}

