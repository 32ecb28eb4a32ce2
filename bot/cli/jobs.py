"""`assessbot jobs`: list pending, retrying and dead jobs; retry or discard them (audited, actor "cli")."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

ACTOR = "cli"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", choices=("pending", "retrying", "running", "dead", "discarded", "done"),
                        help="only jobs in this state (default: every job not done)")
    parser.add_argument("--kind", help="only jobs of this kind (write, send, remind, ...)")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    verbs = parser.add_subparsers(dest="verb")
    retry = verbs.add_parser("retry", help="run a dead (or waiting) job again now, with a fresh attempt count")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the job's id (first column of `assessbot jobs`)")
    which.add_argument("--dead", action="store_true", help="every dead job")
    discard = verbs.add_parser("discard", help="give up a pending or dead job (kept as discarded, audited)")
    discard.add_argument("id", type=int)


def run(args: argparse.Namespace) -> int:
    from bot import settings
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain

    config = settings.command_settings_for("jobs")
    if config is None:
        return 2
    url = config.database_url
    store = None
    try:
        store = Store(url)
        if args.verb == "retry":
            ids = store.retry_jobs(None if args.dead else [args.id], ACTOR)
            if not ids:
                print("no such job to retry (only dead or waiting jobs can be retried)", file=sys.stderr)
                return 1
            print(f"retrying {len(ids)} job(s): {', '.join(map(str, ids))}")
            return 0
        if args.verb == "discard":
            if not store.discard_job(args.id, ACTOR):
                print(f"no pending or dead job {args.id} to discard", file=sys.stderr)
                return 1
            print(f"discarded job {args.id}")
            return 0
        print(table(store.list_jobs(args.status, args.kind, args.limit), ZoneInfo(config.assessbot_timezone),
                    store.clock()))
        return 0
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        print(f"assessbot jobs: {explain(exc, url)}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


def table(rows: list, zone: ZoneInfo, now: float) -> str:
    """The jobs as aligned columns (id, kind, assessment, state, attempts, error code, log id, age, when due)."""
    header = ("ID", "KIND", "ASSESSMENT", "STATE", "ATTEMPTS", "ERROR", "LOG_ID", "AGE", f"DUE ({zone.key})")
    lines = [header] + [(str(r.id), r.kind, r.assessment_key or "-", r.state, str(r.attempts), r.error_code or "-",
                         r.log_id or "-", age(r.age), due(r.due, zone, now)) for r in rows]
    widths = [max(len(line[n]) for line in lines) for n in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
    return text if rows else text + "\n(no jobs)"


def due(at: float | None, zone: ZoneInfo, now: float) -> str:
    """2026-12-07 11:00 (in 3h), 2026-12-07 09:58 (2m ago); "-" for a finished job."""
    if at is None:
        return "-"
    local = datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M")
    if abs(at - now) < 1:
        return f"{local} (now)"
    return f"{local} (in {age(at - now)})" if at > now else f"{local} ({age(now - at)} ago)"


def age(seconds: float) -> str:
    """3s, 4m, 2h, 5d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
