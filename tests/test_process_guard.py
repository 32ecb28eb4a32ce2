"""`make test-quick` starts no process: a test not marked `system` that starts one fails (support/processguard.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processguard import StartedAProcess


def test_a_test_not_marked_system_cannot_start_a_process():
    with pytest.raises(StartedAProcess, match="put it in tests/system/"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    with pytest.raises(StartedAProcess):
        os.fork()


