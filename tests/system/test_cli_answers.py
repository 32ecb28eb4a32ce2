"""The command line seen from outside: it answers without importing lark-oapi (about two seconds) unless it is about
to call Feishu, and says what went wrong in one line of its own words."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ids import ROOT

EXAMPLE = str(ROOT / "config" / "schedule.example.csv")
PROBE = """
import sys
from bot.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("lark_oapi loaded" if "lark_oapi" in sys.modules else "lark_oapi not loaded", file=sys.stderr)
"""


def run(argv: list[str], workdir: Path, database_url: str | None = None) -> subprocess.CompletedProcess:
    """`assessbot <argv>` in a fresh interpreter with complete settings and no Feishu to reach; says if the SDK
    was imported."""
    database_url = database_url or f"sqlite:///{workdir / 'bot.db'}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": database_url,
           "FEISHU_APP_ID": "cli_test", "FEISHU_APP_SECRET": "secret", "FEISHU_VERIFICATION_TOKEN": "token",
           "FEISHU_ENCRYPT_KEY": "key", "FEISHU_DOMAIN": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, cwd=workdir, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("argv", [
    ["--help"], ["--version"], ["import", "--help"], ["db", "--help"], ["jobs", "--help"], ["export", "--help"],
    ["doctor", "--help"], ["sandbox", "--help"], ["console", "--help"], ["db", "current"], ["jobs"], ["export"],
    ["import", "--dry-run", EXAMPLE],
], ids=" ".join)
def test_a_command_that_calls_no_feishu_api_never_imports_the_sdk(argv, tmp_path):
    done = run(argv, tmp_path)
    assert done.stderr.splitlines()[-1] == "lark_oapi not loaded", done.stderr
    assert "Traceback" not in done.stderr


def test_the_probe_sees_the_sdk_when_a_command_calls_feishu(tmp_path):
    done = run(["import", EXAMPLE], tmp_path)  # looking people up for real goes through the SDK
    assert done.stderr.splitlines()[-1] == "lark_oapi loaded", done.stderr
    assert done.stdout.startswith("Cannot reach 127.0.0.1:9 (ConnectionError)")


@pytest.mark.parametrize("verb", [["db", "current"], ["db", "upgrade"], ["jobs"], ["export"], ["import", EXAMPLE]],
                         ids=" ".join)
def test_an_unreachable_database_is_one_line_in_the_commands_words(verb, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    done = run(verb, tmp_path, f"postgresql://bot:secret@127.0.0.1:{closed}/assessbot")
    line = f"the database postgresql://bot:***@127.0.0.1:{closed}/assessbot cannot be reached now: Connection refused"
    more = "; nothing was imported" if verb[0] == "import" else ""
    assert (done.stdout, done.stderr) == ("", f"assessbot {verb[0]}: {line}{more}\nlark_oapi not loaded\n")
