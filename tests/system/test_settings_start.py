"""Settings fail closed in a real start: the app refuses to start without secrets and says why without a traceback."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_refuses_to_start_without_secrets_and_says_why_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import bot; bot.create_app()"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "FEISHU_ENCRYPT_KEY is not set" in result.stderr and "Traceback" not in result.stderr
