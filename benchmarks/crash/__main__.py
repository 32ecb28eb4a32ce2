"""`python -m benchmarks.crash`: the crash test at full size, on SQLite, PostgreSQL or both (see __init__.py)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.crash.longconn import LongConnConfig, longconn_crash
from benchmarks.crash.plan import Config
from benchmarks.crash.run import crash
from benchmarks.crash.schedule import ScheduleConfig, schedule_crash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash", description="The crash test: many signed "
                                     "events, each delivered several times, while gunicorn workers are killed.")
    parser.add_argument("--events", type=int, help="commands: 1,000 (the default); longconn: 300")
    parser.add_argument("--kills", type=int, help="SIGKILLs, at least: 50 (longconn: of the connection's holder, 10)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server (any database on it) where the user may create databases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print each summary as JSON")
    parser.add_argument("--scenario", choices=["commands", "schedule", "longconn", "all"], default="commands",
                        help="commands: /assess commands redelivered (the default); schedule: schedules imported "
                        "by every door, reminders, digests, escalations, creates and progress cards; longconn: "
                        "commands through the long connection while its gateway misbehaves and its holder is killed")
    parser.add_argument("--interviews", type=int, default=240, help="schedule: interviews imported")
    parser.add_argument("--seconds", type=float, default=90.0, help="schedule: how long the killing goes on")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    failed = False
    if args.scenario in ("longconn", "all"):
        for kind in kinds:
            lc = LongConnConfig(events=args.events or 300, kills=args.kills or 10, seed=args.seed, **_on(kind, args))
            failed |= _run(f"long-connection crash test on {kind}: {lc.events} events, ≥ {lc.kills} kills of the "
                           "connection's holder …", longconn_crash, lc, args.json)
        if args.scenario == "longconn":
            return 1 if failed else 0
    if args.scenario in ("schedule", "all"):
        for kind in kinds:
            sc = ScheduleConfig(interviews=args.interviews, kills=args.kills or 50, seed=args.seed,
                                seconds=args.seconds, **_on(kind, args))
            failed |= _run(f"schedule crash test on {kind}: {sc.interviews} interviews, ≥ {sc.kills} kills …",
                           schedule_crash, sc, args.json)
        if args.scenario == "schedule":
            return 1 if failed else 0
    for kind in kinds:
        config = Config(events=args.events or 1000, kills=args.kills or 50, seed=args.seed, **_on(kind, args))
        failed |= _run(f"crash test on {kind}: {config.events} events, ≥ {config.kills} kills …",
                       crash, config, args.json)
    return 1 if failed else 0


def _on(kind: str, args: argparse.Namespace) -> dict:
    """Where a run goes: SQLite with one instance, or the PostgreSQL server with two."""
    return {"database": "sqlite", "instances": 1} if kind == "sqlite" else {"database": args.postgres, "instances": 2}


def _run(what: str, run: Callable[[Any, Path], Any], config: object, as_json: bool) -> bool:
    """`run(config, workdir)` in a fresh directory, its summary printed (and as JSON); whether an invariant failed."""
    print(what, flush=True)
    with tempfile.TemporaryDirectory(prefix="assessbot-crash-") as workdir:
        summary = run(config, Path(workdir))
    print(summary.table(), flush=True)
    if as_json:
        print(json.dumps(asdict(summary), ensure_ascii=False))
    return bool(summary.problems)

if __name__ == "__main__":
    sys.exit(main())
