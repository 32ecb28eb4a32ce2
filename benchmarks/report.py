"""The benchmark's table: one row per measurement, printed as Markdown and written to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

KEEP = "<!-- Everything below this line is written by hand and kept when the file is regenerated. -->"
PACKAGES = ("flask", "gunicorn", "lark-oapi", "sqlalchemy")
COLUMNS = ("scenario", "achieved", "p50", "p90", "p99", "p99.9", "max", "non-2xx", "figure", "target", "met")


@dataclass
class Row:
    """One line of the table; latencies in seconds, None where a column does not apply."""

    scenario: str
    achieved: str = ""
    latency: dict[str, float] = field(default_factory=dict)
    non2xx: int | None = None
    figure: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        marks = {True: "yes", False: "**no**", None: ""}
        latencies = (duration(self.latency[q]) if q in self.latency else "—" for q in COLUMNS[2:7])
        return [self.scenario, self.achieved or "—", *latencies,
                "—" if self.non2xx is None else str(self.non2xx), self.figure or "—", self.target or "—",
                marks[self.met]]


def duration(seconds: float) -> str:
    """A latency as people read it: 3.42 ms, 38.1 ms, 1.25 s."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"


def megabytes(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> list[str]:
    """What the figures were measured on, one fact per line."""
    cpu = "unknown CPU"
    memory = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        memory = f"{kb / 2**20:.1f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [f"{os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} {platform.release()}",
            f"Python {platform.python_version()}; {versions}"]


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def document(rows: list[Row], command: str, started: datetime, load_before: tuple[float, float, float],
             notes: list[str], kept: str) -> str:
    """BENCHMARKS.md: when, where, how, the table, how each row is measured, then the hand-written part."""
    load = ", ".join(f"{x:.2f}" for x in load_before)
    parts = [
        "# Benchmarks",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} by `{command}` (about {_minutes(started)}); regenerate with `make bench`.",
        "",
        *(f"- {fact}" for fact in machine()),
        f"- load average before the run: {load} (everything — load generator, gunicorn, local Open API — shares "
        "these cores, over loopback)",
        "",
        table(rows),
        "",
        "## How each row is measured",
        "",
        *(f"- {note}" for note in notes),
        "",
        KEEP,
    ]
    return "\n".join(parts) + "\n" + kept


def _minutes(started: datetime) -> str:
    seconds = (datetime.now() - started).total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def kept_part(path: Path) -> str:
    """What follows the KEEP line in an existing file (the hand-written analysis), or nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    _, found, rest = text.partition(KEEP)
    return rest.lstrip("\n") if found else ""
