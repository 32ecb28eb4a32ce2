"""`assessbot jobs`: list pending, retrying and dead jobs; retry or discard them (audited, actor "cli")."""

from __future__ import annotations

import argparse
import sys

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
    from bot.store import SchemaTooNew, Store, Unavailable

    url = settings.database_url_for("jobs")
    if url is None:
        return 2
    store = Store(url)
    try:
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
        print(table(store.list_jobs(args.status, args.kind, args.limit)))
        return 0
    except (SchemaTooNew, Unavailable) as exc:
        print(f"assessbot jobs: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()


def table(rows: list) -> str:
    """The jobs as aligned columns (id, kind, assessment, state, attempts, error code, log id, age)."""
    header = ("ID", "KIND", "ASSESSMENT", "STATE", "ATTEMPTS", "ERROR", "LOG_ID", "AGE")
    lines = [header] + [(str(r.id), r.kind, r.assessment_id or "-", r.state, str(r.attempts), r.error_code or "-",
                         r.log_id or "-", age(r.age)) for r in rows]
    widths = [max(len(line[n]) for line in lines) for n in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
    return text if rows else text + "\n(no jobs)"


def age(seconds: float) -> str:
    """3s, 4m, 2h, 5d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
