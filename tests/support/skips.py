"""A pytest plugin: the summary ends with why tests were skipped, each reason once with its count."""

from __future__ import annotations

from collections import Counter

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason, most frequent first, so a row of `s` never goes unexplained."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if not reasons:
        return
    terminalreporter.write_sep("=", "why tests were skipped")
    width = len(str(max(reasons.values())))
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:>{width}} skipped: {reason}")
