"""A test marked system (by its folder) may start a process."""

from __future__ import annotations

import subprocess
import sys


def test_a_system_test_may():
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0
