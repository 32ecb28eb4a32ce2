"""`assessbot export`: the recorded assessments as a sheet a recruiter opens (CSV), or the raw records (JSON lines).

CSV: one row per assessment written to Feishu, with its interview (candidate, position, round, times in
ASSESSBOT_TIMEZONE), conclusion in words, one column per dimension (those of the local rubric, then those of the
feedback forms the assessments were written with, one column per title), the comment and the last submission; every
cell that a spreadsheet would take for a formula is neutralised. JSON lines: the assessments and
the audit trail as the database holds them, for records and audits. Not a backup of the database (jobs and dedup
records are left out): docs/deploy.md says how to back that up.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.forms.catalogue import Catalogue
    from bot.rubric import Dimension, Rubric
    from bot.store import Recorded

PROGRESS_EVERY = 1000  # rows between two progress lines
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (CWE-1236)
HEADERS = {  # (English, 中文) before the dimensions, then after them; {zone} is ASSESSBOT_TIMEZONE
    "before": (("Interview ID", "面试ID"), ("Feishu assessment ID", "面评ID"), ("Candidate", "候选人"),
               ("Position", "职位"), ("Round", "轮次"), ("Interview start ({zone})", "面试开始（{zone}）"),
               ("Interview end ({zone})", "面试结束（{zone}）"), ("Interviewer", "面试官"),
               ("Interviewer open_id", "面试官 open_id"), ("Conclusion", "结论")),
    "after": (("Comment", "评语"), ("Last submitted ({zone})", "最后提交（{zone}）"), ("Application ID", "投递ID")),
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_day, help="only what changed on or after this day (YYYY-MM-DD, UTC)")
    parser.add_argument("--format", choices=("jsonl", "csv"),
                        help="csv: one row per assessment, for a spreadsheet; jsonl: the assessments and the audit "
                             "trail as stored (default: csv for an --output ending in .csv, else jsonl)")
    parser.add_argument("--lang", choices=("en", "zh"), default=None,
                        help="the CSV's headings and words (default: zh for a Chinese locale, else en)")
    parser.add_argument("--output", help="write to this file (default: standard output)")


def run(args: argparse.Namespace) -> int:
    from bot import rubric, settings
    from bot.forms import mapping
    from bot.forms.catalogue import Catalogue
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    config = settings.command_settings_for("export")
    if config is None:
        return 2
    fmt = args.format or ("csv" if (args.output or "").lower().endswith(".csv") else "jsonl")
    try:
        the_rubric = rubric.load(config.assessbot_rubric) if fmt == "csv" else None
        form_map = mapping.load(config.assessbot_forms) if fmt == "csv" else None
    except (rubric.RubricError, mapping.MappingError) as exc:
        print(f"assessbot export: {exc}", file=sys.stderr)
        return 2
    since = args.since.timestamp() if args.since else 0.0
    store = None
    try:
        store = Store(config.database_url)
        with _opened(args.output, fmt) as out:
            if fmt == "csv":
                assert the_rubric is not None
                sheet = Sheet(the_rubric, ZoneInfo(config.assessbot_timezone), args.lang or _locale_lang(),
                              Catalogue(store, the_rubric, form_map))
                count = sheet.write(store.recorded(since), out)
            else:
                rows = _progress(store.export_rows(since), store.count_since(since), sys.stderr)
                count = write(rows, out)
        print(f"exported {count} {'assessments' if fmt == 'csv' else 'records'}", file=sys.stderr)
        return 0
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        print(f"assessbot export: {explain(exc, config.database_url)}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


class Sheet:
    """The recruiter's CSV: headings and words in one language, times in one zone; a column per dimension title,
    each assessment's values under the titles of the rubric it was written with."""

    def __init__(self, the_rubric: Rubric, zone: ZoneInfo, lang: str, forms: Catalogue | None = None):
        self.rubric, self.zone, self.lang, self.forms = the_rubric, zone, lang, forms

    def write(self, recorded: Iterable[Recorded], out: IO[str]) -> int:
        """Write the heading and one row per assessment (by interview time, then candidate); how many rows."""
        from bot.rubric import fold

        rows = sorted(recorded, key=_order)
        used = [self._rubric_of(r) for r in rows]
        columns: dict[str, Dimension] = {}  # folded title -> the first dimension so titled
        for rubric in [self.rubric, *used]:
            for dim in rubric.dimensions:
                columns.setdefault(fold(dim.title), dim)
        extra = sorted({key for r, rubric in zip(rows, used, strict=True) for key in r.state.get("dimensions", {})
                        if rubric.dimension(key) is None})
        writer = csv.writer(out)
        writer.writerow(safe(cell) for cell in self.heading(list(columns.values()), extra))
        for r, rubric in zip(rows, used, strict=True):
            writer.writerow(safe(cell) for cell in self.row(r, rubric, list(columns), extra))
        return len(rows)

    def _rubric_of(self, r: Recorded) -> Rubric:
        if self.forms is None:
            return self.rubric
        from bot.assessment import Assessment
        from bot.store import Known

        known = Known(Assessment(), r.owner, 1, 1, r.form_id)  # written (it is exported): its version, else local
        return self.forms.choose(r.key, r.assignment, known).rubric

    def heading(self, dimensions: list[Dimension], extra: list[str]) -> list[str]:
        """The column names; values no rubric names come last, named by their key."""
        pick = 0 if self.lang == "en" else 1
        zone = self.zone.key
        titles = [d.label_en if self.lang == "en" else d.title for d in dimensions]
        return ([names[pick].format(zone=zone) for names in HEADERS["before"]] + titles + extra
                + [names[pick].format(zone=zone) for names in HEADERS["after"]])

    def row(self, r: Recorded, rubric: Rubric, titles: list[str], extra: list[str]) -> list[str]:
        """One assessment's cells, in the heading's order."""
        from bot.assessment import Conclusion
        from bot.rubric import fold

        a, state = r.assignment, r.state
        values = state.get("dimensions", {})
        conclusion = state.get("conclusion")
        word = "" if conclusion is None else getattr(Conclusion(conclusion), self.lang)
        by_title = {fold(d.title): d for d in rubric.dimensions}
        total = rubric.total({k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
        cells = [self._cell(by_title.get(title), values, total) for title in titles]
        return [a.interview_id if a else "", _feishu_id(r), a.candidate if a else "", (a.position or "") if a else "",
                (a.round or "") if a else "", self._time(a.start_at if a else None),
                self._time(a.end_at if a else None), state.get("username") or "",
                a.interviewer if a else (r.owner or ""), word, *cells,
                *(self._value(values.get(key)) for key in extra),
                state.get("content") or "", self._time(r.submitted_at), (a.application_id or "") if a else ""]

    def _cell(self, dim: Dimension | None, values: dict, total: float | None) -> str:
        from bot.values import number, shown

        if dim is None:
            return ""
        if dim.computed:
            return "" if total is None else number(total)
        value = values.get(dim.key)
        if value is not None and (dim.by_option or dim.options_en):
            zh, en = shown(dim, tuple(value) if isinstance(value, list) else value)
            return en if self.lang == "en" else zh
        return self._value(value)

    def _time(self, at: float | None) -> str:
        return "" if at is None else datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _value(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            return ("、" if self.lang == "zh" else ", ").join(map(str, value))
        return str(value)


def safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def write(rows: Iterable[dict], out: IO[str]) -> int:
    """Write the raw records as JSON lines; how many."""
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def read(source: IO[str]) -> list[dict]:
    """Records written by `write`, as they were (for checking an export and for loading it elsewhere)."""
    return [json.loads(line) for line in source if line.strip()]


def _feishu_id(r: Recorded) -> str:
    """Feishu's id of the assessment: learned from the schedule, or the one typed (never the bot's own key)."""
    if r.assignment is not None and r.assignment.feishu_assessment_id:
        return r.assignment.feishu_assessment_id
    return "" if r.key.startswith("ab-") else r.key


def _order(r: Recorded) -> tuple:
    a = r.assignment
    return (a.start_at if a else r.submitted_at, a.candidate if a else "", a.interview_id if a else "", r.key)


class _opened:
    """The output file (UTF-8; with a byte-order mark for CSV, so Excel reads Chinese right), or standard output."""

    def __init__(self, path: str | None, fmt: str):
        self.path, self.fmt, self.file = path, fmt, None

    def __enter__(self) -> IO[str]:
        if self.path is None:
            return sys.stdout
        self.file = Path(self.path).open("w", encoding="utf-8-sig" if self.fmt == "csv" else "utf-8", newline="")
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _locale_lang() -> str:
    """zh for a Chinese locale, en otherwise (as the console decides)."""
    import os

    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"


def _progress(rows: Iterable[dict], total: int, err: IO[str]) -> Iterator[dict]:
    """Pass the rows on, saying how far it got every PROGRESS_EVERY rows (on stderr, beside the data)."""
    for n, row in enumerate(rows, 1):
        if n % PROGRESS_EVERY == 0:
            print(f"exported {n}/{total} ({n * 100 // max(total, 1)}%)", file=err, flush=True)
        yield row


def _day(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day: {value!r} (write YYYY-MM-DD)") from None
