"""Hostile inputs at every door of the bot, in this process: `python -m benchmarks.hostile`.

The webhook (webhook.py), the intake API (intake.py), schedule files sent in chat (files.py), Bitable values
(bitable.py) and long-connection frames (frames.py) each get their share of N inputs from one seeded generator, sent
to the app from `bot.create_app` (its test client, a temporary SQLite database, the sandbox Open API in a thread:
lab.py). Per door it reports the answers by outcome, exceptions that escaped (must be none), rows written that
should not have been (none), errors the bot logged, the slowest input, peak memory (the process's, and the largest
input's own under tracemalloc), wall time, and whether a good request is still answered afterwards (run.py). Exit
status 1 when a door is not clean.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from types import ModuleType

from benchmarks.hostile.run import Tally, run_door

# Each door's share of the inputs, by what one costs: a file is a download, a check and a preview (0.1-3 s); a push
# or a request a few milliseconds; a table or a frame about one.
SHARES = {"webhook": 0.20, "intake": 0.05, "files": 0.0005, "bitable": 0.4, "frames": 0.3495}


def door(name: str) -> ModuleType:
    """The module of one door (benchmarks/hostile/<name>.py)."""
    return importlib.import_module(f"benchmarks.hostile.{name}")


def counts(total: int, chosen: list[str]) -> dict[str, int]:
    """How many inputs each chosen door gets of `total` (all of it for one door; by share for several)."""
    if len(chosen) == 1:
        return {chosen[0]: total}
    weight = sum(SHARES[d] for d in chosen)
    return {d: max(1, round(total * SHARES[d] / weight)) for d in chosen}


def report(tallies: list[Tally], total_seconds: float) -> str:
    """The figures, one block per door, in Markdown."""
    lines = ["| door | inputs | answers | escaped | bad writes | errors logged | slowest input | max RSS | "
             "largest input (tracemalloc peak) | wall | good request after |", "|" + "---|" * 11]
    for t in tallies:
        answers = ", ".join(f"{k} {v:,}" for k, v in sorted(t.outcomes.items(), key=lambda kv: -kv[1])[:8])
        lines.append(f"| {t.door} | {t.inputs:,} | {answers} | {sum(t.escaped.values())} | "
                     f"{sum(t.bad_writes.values())} | {t.logged_errors} | {t.slowest[0] * 1000:.0f} ms "
                     f"({t.slowest[1]}) | {t.maxrss_mb:.0f} MB | {t.largest[0]}, {_bytes(t.largest[1])} "
                     f"({t.largest[2]:.1f} MB) | {t.seconds:.0f} s | {'yes' if t.good_after else '**no**'} |")
    lines.append(f"\nTotal {sum(t.inputs for t in tallies):,} inputs in {total_seconds:.0f} s.")
    for t in tallies:
        for title, found in (("escaped", t.escaped), ("written though it should not be", t.bad_writes)):
            for what, n in found.most_common(10):
                lines.append(f"- {t.door}, {title}: {what} × {n:,}")
        errors = [(k, n) for k, n in t.logged.most_common() if k[0] in ("ERROR", "CRITICAL")]
        for (level, message), n in errors[:5]:
            lines.append(f"- {t.door}, logged {level}: {message!r} × {n:,}")
        for key, text in t.extra.items():
            lines.append(f"- {t.door}, {key}: {text}")
    return "\n".join(lines)


def _bytes(count: int) -> str:
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="inputs in all (default 1,000,000)")
    parser.add_argument("--door", default="all", choices=["all", *SHARES])
    parser.add_argument("--seed", type=int, default=20261206, help="the same seed throws the same inputs")
    args = parser.parse_args(argv)
    chosen = list(SHARES) if args.door == "all" else [args.door]
    load = os.getloadavg()
    print(f"{args.count:,} hostile inputs, seed {args.seed}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
          file=sys.stderr)
    started = time.perf_counter()
    tallies = []
    for name, count in counts(args.count, chosen).items():
        tallies.append(run_door(door(name), count, args.seed, lambda line: print(line, file=sys.stderr)))
        print(report(tallies[-1:], tallies[-1].seconds), file=sys.stderr, flush=True)  # kept if a later door fails
    print(report(tallies, time.perf_counter() - started))
    after = os.getloadavg()
    print(f"\nLoad before {load[0]:.2f}, after {after[0]:.2f}.")
    return 0 if all(t.clean for t in tallies) else 1
