"""The sandbox Open API as a program: `python -m bot.sandbox.openapi` prints its URL, serves and stops on a signal."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest
import requests

from tests.support.ids import ROOT, SANDBOX_APP_ID, SANDBOX_APP_SECRET


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_line_prints_its_url_serves_and_stops_on_a_signal(tmp_path, stop):
    """python -m bot.sandbox.openapi --port 0: the URL first, then Open API answers, then a clean exit."""
    process = subprocess.Popen([sys.executable, "-m", "bot.sandbox.openapi", "--port", "0", "--quiet",
                                "--state-file", str(tmp_path / "state.json")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        answer = requests.get(f"{url}/open-apis/bot/v3/info", headers={"Authorization": f"Bearer {token(url)}"},
                              timeout=5)
        assert answer.json()["bot"]["open_id"] == "ou_bot0000000000000000000000000000"
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert json.loads((tmp_path / "state.json").read_text())["assessments"] == {}


def token(url: str) -> str:
    answer = requests.post(f"{url}/open-apis/auth/v3/tenant_access_token/internal",
                           json={"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET}, timeout=5)
    return answer.json()["tenant_access_token"]
