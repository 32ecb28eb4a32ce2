"""`assessbot import` as a test runs it: the settings in the environment, the output captured."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

from bot.cli import importing
from tests.support.clock import FakeClock
from tests.support.ids import APP_ID, APP_SECRET, DOMAIN, ROOT


def import_env(monkeypatch, database_url: str, **extra: str) -> None:
    """The settings `assessbot import` reads, in the environment (no .env file is read)."""
    values = {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET,
              "FEISHU_VERIFICATION_TOKEN": "token", "FEISHU_ENCRYPT_KEY": "key", "FEISHU_DOMAIN": DOMAIN,
              "DATABASE_URL": database_url,
              "ASSESSBOT_RUBRIC": str(ROOT / "config/rubric.toml"), **extra}
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def run_import(where: Path, *argv: str, err: io.StringIO | None = None,
               clock: Callable[[], float] | None = None) -> tuple[int, str]:
    """Run `assessbot import ARGV`; its exit status and what it printed on stdout (stderr goes to `err`)."""
    parser = argparse.ArgumentParser()
    importing.configure(parser)
    args = parser.parse_args([*argv, "--env-file", str(where / "absent.env")])
    out = io.StringIO()
    code = importing.run(args, out, err or io.StringIO(), clock or FakeClock())
    return code, out.getvalue()


def schedule_file(where: Path, name: str, rows: list[str],
                  header: str = "interview_id,interviewer,candidate,start,end") -> str:
    """A CSV schedule in `where`, its path as text."""
    path = where / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)
