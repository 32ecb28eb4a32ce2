"""`python -m benchmarks.crash`: the crash test at full size, on SQLite, PostgreSQL or both (see __init__.py)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.crash.plan import Config
from benchmarks.crash.run import crash


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash", description="The crash test: many signed "
                                     "events, each delivered several times, while gunicorn workers are killed.")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs of gunicorn workers, at least")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server (any database on it) where the user may create databases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print each summary as JSON")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    failed = False
    for kind in kinds:
        config = Config(events=args.events, kills=args.kills, seed=args.seed,
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
