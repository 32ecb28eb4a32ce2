"""One validation for every way a schedule comes in: rows of a file, a JSON list, a chat command."""

from __future__ import annotations

import contextlib
import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from pydantic import ValidationError

from bot.schedule.model import (
    Cancellation,
    Invalid,
    ScheduleRow,
    is_blank,
    is_cancelled,
    near_cancelled,
    read_id,
    read_person,
)

Place = Literal["row", "line", "item"]

# Field name -> the column headers that mean it (compared after `header_key`).
COLUMNS: dict[str, tuple[str, str]] = {
    "interview_id": ("interview_id", "面试ID"),
    "feishu_assessment_id": ("assessment_id", "面评ID"),
    "interviewer": ("interviewer", "面试官"),
    "candidate": ("candidate", "候选人"),
    "position": ("job", "职位"),
    "round": ("round", "轮次"),
    "start": ("start", "开始时间"),
    "end": ("end", "结束时间"),
    "recruiter": ("recruiter", "招聘负责人"),
    "application_id": ("application_id", "投递ID"),
    "form": ("form", "面评表"),
    "status": ("status", "状态"),  # `cancelled` / `已取消`: the interview will not take place
}
REQUIRED = ("interview_id", "interviewer", "candidate", "start", "end")
# Columns the bot writes (a followed Bitable's status), never read as part of the schedule.
WRITTEN = ("feedback_status", "面评状态")


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: a row (header = row 1), a line, or an item, and a column as the file names it."""

    row: int | None
    column: str | None
    zh: str
    en: str
    place: Place = "row"
    field: str | None = None
    warning: bool = False  # listed for the person, but nothing is refused because of it

    @property
    def zh_text(self) -> str:
        """The problem with its place, in Chinese."""
        where = "" if self.row is None else f"第 {self.row} {'项' if self.place == 'item' else '行'}"
        column = f"“{self.column}”" if self.column else ""
        prefix = "，".join(part for part in (where, column) if part)
        return f"{prefix}：{self.zh}" if prefix else self.zh

    @property
    def en_text(self) -> str:
        """The problem with its place, in English."""
        where = "" if self.row is None else f"{self.place.capitalize()} {self.row}"
        column = f"'{self.column}'" if self.column else ""
        prefix = ", ".join(part for part in (where, column) if part)
        return f"{prefix}: {self.en}" if prefix else self.en

    def __str__(self) -> str:
        return f"{self.zh_text} / {self.en_text}"


@dataclass(frozen=True)
class Where:
    """Where an accepted assignment came from: its row (line, item) and the column names its fields had."""

    row: int
    place: Place
    names: Mapping[str, str]


class Rows(list[ScheduleRow]):
    """Accepted assignments (compares equal to a plain list), remembering where each came from by its key; the
    cancellations the schedule states, and the interviews some refused row names (`partial`: the schedule does not
    state them whole, so nobody is withdrawn from them)."""

    def __init__(self, items: Iterable[ScheduleRow] = (), where: Mapping[tuple[str, str], Where] | None = None):
        super().__init__(items)
        self.where: dict[tuple[str, str], Where] = dict(where or {})
        self.cancelled: list[Cancellation] = []
        self.partial: set[str] = set()


def header_key(name: str) -> str:
    """A header as compared: case, full-width letters, spaces, `_` and `-` do not matter."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name).casefold() if not ch.isspace() and ch not in "_-")


# a field is also known by its own name ("position" for the job column, as /assign builds its record)
_KNOWN = {header_key(name): field for field, names in COLUMNS.items() for name in (field, *names)}


_WRITTEN = {header_key(name) for name in WRITTEN}


def field_of(name: str) -> str | None:
    """The field a column header or JSON key names, if any."""
    return _KNOWN.get(header_key(name))


def is_written(name: str) -> bool:
    """Whether a column is one the bot writes itself (a followed Bitable's feedback status)."""
    return header_key(name) in _WRITTEN


def columns_of(
    header: list[str], row: int | None = 1, place: Place = "row"
) -> tuple[dict[int, str], list[Problem]]:
    """Which column holds which field, and the header's problems (unknown, repeated, missing columns)."""
    fields: dict[int, str] = {}
    problems: list[Problem] = []
    for index, name in enumerate(header):
        name = name.strip()
        if not name:
            continue
        field = field_of(name)
        if field is None and is_written(name):
            continue
        if field is None:
            problems.append(_unknown(name, row, place))
        elif field in fields.values():
            problems.append(Problem(row, name, "列重复出现，只能有一列。", "appears twice; keep one column.",
                                    place, field))
        else:
            fields[index] = field
    for field in REQUIRED:
        if field not in fields.values():
            zh_name, en_name = COLUMNS[field][1], COLUMNS[field][0]
            problems.append(Problem(row, en_name, f"缺少必填列（{en_name} 或 {zh_name}）。",
                                    f"the required column is missing ({en_name} or {zh_name}).", place, field))
    return fields, problems


def _unknown(name: str, row: int | None, place: Place) -> Problem:
    names = [names[0] for names in COLUMNS.values()] + [names[1] for names in COLUMNS.values()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    zh = "未知的列，已忽略。" + (f"是指“{close[0]}”吗？" if close else "")
    en = "unknown column, ignored." + (f" Did you mean '{close[0]}'?" if close else "")
    return Problem(row, name, zh, en, place, warning=True)


def validate_records(records: list[Any], zone: tzinfo) -> tuple[list[ScheduleRow], list[Problem]]:
    """Assignments from a JSON list of objects (keys in English or Chinese), and every problem by item number."""
    if not isinstance(records, list):
        return [], [Problem(None, None, "应为一个 JSON 列表。", "Expected a JSON list of interviews.", "item")]
    if not records:
        return [], [empty("item")]
    return validate_mappings(enumerate(records, start=1), zone, "item")


def validate_mappings(
    numbered: Iterable[tuple[int, Any]], zone: tzinfo, place: Place
) -> tuple[list[ScheduleRow], list[Problem]]:
    """Assignments from numbered objects whose keys are column names; unknown keys are reported once each."""
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    problems: list[Problem] = []
    unknown: set[str] = set()
    for number, record in numbered:
        if not isinstance(record, Mapping):
            problems.append(Problem(number, None, "应为一个 JSON 对象（{…}）。", "not a JSON object ({…}).", place))
            continue
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        twice = False
        for key, value in record.items():
            field = field_of(str(key))
            if field is None and is_written(str(key)):
                continue
            if field is None:
                if str(key) not in unknown:
                    unknown.add(str(key))
                    problems.append(_unknown(str(key), number, place))
            elif field in values:
                problems.append(Problem(number, str(key), "重复的字段。", "is given twice.", place, field))
                twice = True
            else:
                values[field], names[field] = value, str(key)
        if not twice:
            rows.append((number, values, names))
    assignments, row_problems = validate_rows(rows, zone, place)
    return assignments, in_order(problems + row_problems)


def validate_rows(
    rows: Iterable[tuple[int, dict[str, Any], dict[str, str]]],
    zone: tzinfo,
    place: Place = "row",
    skip: Iterable[str] = (),
) -> tuple[list[ScheduleRow], list[Problem]]:
    """Assignments from (number, field values, field -> column name) rows; fields in `skip` are not reported.

    A row whose status says cancelled needs only its interview id (and its interviewer, to cancel one person's
    part): it becomes a Cancellation, its other cells unread.
    """
    skip = set(skip)
    assignments = Rows()
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, values, names in rows:
        values = dict(values)
        status = values.pop("status", None)
        if is_cancelled(status):
            cancelled, wrong = _cancellation(values, number, names, place)
            problems += [p for p in wrong if p.field not in skip]
            if cancelled is not None:
                assignments.cancelled.append(cancelled)
                assignments.where[(cancelled.interview_id, cancelled.interviewer or "")] = Where(number, place, names)
            continue
        if (meant := near_cancelled(status)) is not None:
            column = names.get("status", "status")
            problems.append(Problem(number, column, f"不认识的状态，按正常安排处理；是指“{meant}”吗？",
                                    f"a status not understood, taken as scheduled; did you mean '{meant}'?",
                                    place, "status", warning=True))
        try:
            assignment = ScheduleRow.model_validate(values, context={"zone": zone})
        except ValidationError as exc:
            problems += [p for p in _problems(exc, number, names, place) if p.field not in skip]
            with contextlib.suppress(Invalid):
                assignments.partial.add(read_id(values.get("interview_id")))
            continue
        if assignment.key in seen:
            first = seen[assignment.key]
            what = "行" if place != "item" else "项"
            problems.append(Problem(
                number, names.get("interviewer"),
                f"与第 {first} {what}是同一场面试的同一位面试官（面试 ID {assignment.interview_id}）。",
                f"same interview and interviewer as {place} {first} (interview id {assignment.interview_id}).",
                place, "interviewer"))
            continue
        seen[assignment.key] = number
        assignments.append(assignment)
        assignments.where[assignment.key] = Where(number, place, names)
    return assignments, problems


def _cancellation(values: Mapping[str, Any], number: int, names: Mapping[str, str],
                  place: Place) -> tuple[Cancellation | None, list[Problem]]:
    """A cancelled row: its interview, and its interviewer when one is named."""
    problems = []
    interview_id = interviewer = None
    try:
        interview_id = read_id(values.get("interview_id"))
    except Invalid as exc:
        problems.append(Problem(number, names.get("interview_id", "interview_id"), exc.zh, exc.en, place,
                                "interview_id"))
    if not is_blank(values.get("interviewer")):
        try:
            interviewer = read_person(values.get("interviewer"))
        except Invalid as exc:
            problems.append(Problem(number, names.get("interviewer", "interviewer"), exc.zh, exc.en, place,
                                    "interviewer"))
    if problems or interview_id is None:
        return None, problems
    return Cancellation(interview_id, interviewer), []


def empty(place: Place = "row") -> Problem:
    """The problem of a file or list with no interviews in it."""
    return Problem(None, None, "没有任何面试。", "There are no interviews in it.", place)


def _problems(exc: ValidationError, number: int, names: dict[str, str], place: Place) -> list[Problem]:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else None
        column = names.get(field, field) if field else None
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, Invalid):
            zh, en = cause.zh, cause.en
        elif error["type"] == "missing":
            zh, en = "缺少必填项。", "is required but missing."
        else:
            zh, en = f"无效：{error['msg']}", f"is not valid: {error['msg']}"
        problems.append(Problem(number, column, zh, en, place, field))
    return problems


def in_order(problems: list[Problem]) -> list[Problem]:
    """Problems as a person reads them: whole-file ones first, then by row, warnings before errors in a row."""
    return sorted(problems, key=lambda p: (0 if p.row is None else p.row, not p.warning))
