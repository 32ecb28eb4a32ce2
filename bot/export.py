"""`assessbot export`: the known assessments and the audit trail as JSON lines or CSV, for records and audits.

Not a backup of the database (jobs and dedup records are left out): docs/deploy.md says how to back that up.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import IO

COLUMNS = ("record", "id", "assessment_id", "at", "actor", "owner", "action", "result", "applied_version", "state",
           "detail", "log_id")
PROGRESS_EVERY = 1000  # rows between two progress lines


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_day, help="only what changed on or after this day (YYYY-MM-DD, UTC)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default jsonl")
    parser.add_argument("--output", help="write to this file (default: standard output)")


def run(args: argparse.Namespace) -> int:
    from bot import settings
    from bot.store import SchemaTooNew, Store, Unavailable

    url = settings.database_url_for("export")
    if url is None:
        return 2
    since = args.since.timestamp() if args.since else 0.0
    store = Store(url)
    try:
        total = store.count_since(since)
        rows = _progress(store.export_rows(since), total, sys.stderr)
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = write(rows, args.format, out)
        else:
            count = write(rows, args.format, sys.stdout)
        print(f"exported {count} records", file=sys.stderr)
        return 0
    except (SchemaTooNew, Unavailable) as exc:
        print(f"assessbot export: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()


def write(rows: Iterable[dict], fmt: str, out: IO[str]) -> int:
    """Write the rows as JSON lines or CSV (state and detail as JSON in their cells); how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, COLUMNS, extrasaction="raise")
        writer.writeheader()
    for row in rows:
        if fmt == "csv":
            writer.writerow({**row, **{k: json.dumps(row[k], ensure_ascii=False) for k in ("state", "detail")
                                       if k in row}})
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def read(fmt: str, source: IO[str]) -> list[dict]:
    """Rows written by `write`, as they were (for checking an export and for loading it elsewhere)."""
    if fmt == "jsonl":
        return [json.loads(line) for line in source if line.strip()]
    rows = []
    for cells in csv.DictReader(source):
        row = {k: v for k, v in cells.items() if v != ""}
        for key in ("state", "detail"):
            if key in row:
                row[key] = json.loads(row[key])
        for key in ("at",):
            row[key] = float(row[key])
        for key in ("id", "applied_version"):
            if key in row:
                row[key] = int(row[key])
        rows.append(row)
    return rows


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
