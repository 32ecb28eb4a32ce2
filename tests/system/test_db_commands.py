"""The database commands, run as an operator runs them: `assessbot db upgrade`, `db current`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from sqlalchemy.engine import make_url

from bot.store import migrations
from tests.support.databases import needs_postgres
from tests.support.schema_v1 import all_revisions, make_v1


def test_db_commands_upgrade_and_show_the_version(tmp_path):
    """`assessbot db upgrade` then `db current`, with DATABASE_URL alone (no Feishu credentials)."""
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    make_v1(url)
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}

    def db(*verb: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", "db", *verb], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    assert db("current").stdout.strip() == ("- (not versioned: made before versions existed; `assessbot db upgrade` "
                                            f"adopts it at {migrations.head()})")
    upgraded = db("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"upgraded: {', '.join(all_revisions()[1:])}; now at {migrations.head()}"
    assert db("current").stdout.strip() == f"{migrations.head()} (head)"


def test_db_current_tells_a_new_database_from_one_made_before_versions(tmp_path):
    """A file not there yet is not created by looking; an empty database is empty, not "not versioned"."""
    path = tmp_path / "new.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin"}

    def current() -> str:
        done = subprocess.run([sys.executable, "-m", "bot.cli", "db", "current"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (0, "")
        return done.stdout.strip()

    assert current() == (f"- (no database yet at {path}: `assessbot db upgrade` or the bot's first start creates it)")
    assert not path.exists()
    sqlite3.connect(path).close()
    assert current() == (f"- (empty: no tables yet; `assessbot db upgrade` or the bot's first start creates them at "
                         f"{migrations.head()})")


@needs_postgres
def test_db_commands_name_a_database_that_does_not_exist_in_one_line():
    """A misspelt database name: one line from every command that reads the database, and no traceback."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="assessbot_misspelt")
    shown = url.render_as_string(hide_password=True)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}
    line = (f"the database {shown} cannot be used: database \"assessbot_misspelt\" does not exist; correct "
            "DATABASE_URL or the server's set-up")
    for verb in (["db", "current"], ["db", "upgrade"], ["jobs"], ["export"]):
        done = subprocess.run([sys.executable, "-m", "bot.cli", *verb], env=env, capture_output=True, text=True,
                              timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"assessbot {verb[0]}: {line}\n")
