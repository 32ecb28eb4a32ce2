"""`python -m benchmarks.crash`: the crash test at full size, on SQLite, PostgreSQL or both (see __init__.py)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

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
            lc = LongConnConfig(events=args.events or 300, kills=args.kills or 10, seed=args.seed,
                                database="sqlite" if kind == "sqlite" else args.postgres,
                                instances=1 if kind == "sqlite" else 2)
            with tempfile.TemporaryDirectory(prefix="assessbot-crash-") as workdir:
                print(f"long-connection crash test on {kind}: {lc.events} events, ≥ {lc.kills} kills of the "
                      "connection's holder …", flush=True)
                lc_summary = longconn_crash(lc, Path(workdir))
            print(lc_summary.table(), flush=True)
            if args.json:
                print(json.dumps(asdict(lc_summary), ensure_ascii=False))
            failed |= bool(lc_summary.problems)
        if args.scenario == "longconn":
            return 1 if failed else 0
    if args.scenario in ("schedule", "all"):
        for kind in kinds:
            config = ScheduleConfig(interviews=args.interviews, kills=args.kills or 50, seed=args.seed,
                                    seconds=args.seconds, database="sqlite" if kind == "sqlite" else args.postgres,
                                    instances=1 if kind == "sqlite" else 2)
            with tempfile.TemporaryDirectory(prefix="assessbot-crash-") as workdir:
                print(f"schedule crash test on {kind}: {config.interviews} interviews, ≥ {config.kills} kills …",
                      flush=True)
                summary = schedule_crash(config, Path(workdir))
            print(summary.table(), flush=True)
            if args.json:
                print(json.dumps(asdict(summary), ensure_ascii=False))
            failed |= bool(summary.problems)
        if args.scenario == "schedule":
            return 1 if failed else 0
    for kind in kinds:
        config = Config(events=args.events or 1000, kills=args.kills or 50, seed=args.seed,
                        database="sqlite" if kind == "sqlite" else args.postgres,
                        instances=1 if kind == "sqlite" else 2)
        with tempfile.TemporaryDirectory(prefix="assessbot-crash-") as workdir:
            print(f"crash test on {kind}: {config.events} events, ≥ {config.kills} kills …", flush=True)
            summary = crash(config, Path(workdir))
        print(summary.table(), flush=True)
        if args.json:
            print(json.dumps(asdict(summary), ensure_ascii=False))
        failed |= bool(summary.problems)
    return 1 if failed else 0


sys.exit(main())
