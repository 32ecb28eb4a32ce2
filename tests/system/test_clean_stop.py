"""A clean stop leaves nothing behind: no -wal or lock files beside an SQLite database, no metrics directory in the
temp folder; files another process is still using are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sandbox.processes import Gunicorn, free_port
from bot.store import Store
from tests.support.jobs import send_job
from tests.support.processes import bot_env


def beside(database: Path) -> list[str]:
    return sorted(p.name for p in database.parent.iterdir() if p.name.startswith(database.name))


def test_the_last_store_to_close_an_sqlite_database_leaves_only_the_database(tmp_path):
    database = tmp_path / "bot.db"
    first, second = Store(f"sqlite:///{database}"), Store(f"sqlite:///{database}")
    first.accept(["key"], [send_job("A1")])
    second.seen("key")  # another process with the database open
    first.dispose()
    assert beside(database) == ["bot.db", "bot.db-shm", "bot.db-wal", "bot.db.urgent", "bot.db.writelock"]
    second.dispose()
    assert beside(database) == ["bot.db"]


def test_a_stop_after_the_others_removes_what_they_left_when_none_closed_last_cleanly(tmp_path):
    # Two workers that close at the same moment each see the other's lock and both leave the -wal file; a
    # killed one leaves it too. The master stops after them with no connection open: it tidies up.
    database = tmp_path / "bot.db"
    master = Store(f"sqlite:///{database}")
    master.accept(["a"], [send_job("A1")])
    master.engine.dispose()
    pid = os.fork()
    if pid == 0:  # a worker killed with the database open
        worker = Store(f"sqlite:///{database}")
        worker.accept(["b"], [send_job("A2")])
        os._exit(0)
    os.waitpid(pid, 0)
    assert beside(database) == ["bot.db", "bot.db-shm", "bot.db-wal", "bot.db.urgent", "bot.db.writelock"]
    master.dispose()
    assert beside(database) == ["bot.db"]
    assert Store(f"sqlite:///{database}").seen("b")  # the worker's write is in the database itself


def test_a_store_that_kept_the_removed_lock_files_open_takes_the_new_ones(tmp_path):
    database = tmp_path / "bot.db"
    staying, leaving = Store(f"sqlite:///{database}"), Store(f"sqlite:///{database}")
    staying.accept(["a"], [send_job("A1")])
    leaving.accept(["b"], [send_job("A2")])
    staying.engine.dispose()  # no connection open, but its writer lock's files still are
    leaving.dispose()
    assert beside(database) == ["bot.db"]
    staying.accept(["c"], [send_job("A3")], actor="ou_alice")  # urgent: both files again
    writer = staying._writer
    assert os.path.samestat(os.fstat(writer._fd), os.stat(f"{database}.writelock"))
    assert os.path.samestat(os.fstat(writer._intent), os.stat(f"{database}.urgent"))
    assert Store(f"sqlite:///{database}").seen("c")
    staying.dispose()


def test_the_lock_files_stay_while_a_writer_of_another_store_is_inside(tmp_path):
    database = tmp_path / "bot.db"
    inside, leaving = Store(f"sqlite:///{database}"), Store(f"sqlite:///{database}")
    leaving.accept(["a"], [send_job("A1")])
    leaving.engine.dispose()
    with inside.transaction():  # holds the writer lock
        leaving._writer.remove_files()
        assert beside(database) == ["bot.db", "bot.db-shm", "bot.db-wal", "bot.db.urgent", "bot.db.writelock"]
    inside.dispose()
    assert beside(database) == ["bot.db"]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find gunicorn's workers")
def test_a_server_started_and_stopped_leaves_no_metrics_directory_and_nothing_beside_its_database(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    abandoned = temp / "assessbot-metrics-4194303-gone"  # a server killed before it could clean up (pid unused)
    abandoned.mkdir()
    others = temp / "another-program"
    others.mkdir()
    database = tmp_path / "var" / "assessbot.db"
    env = {**bot_env("http://127.0.0.1:9", f"sqlite:///{database}"), "TMPDIR": str(temp)}
    with Gunicorn(env, tmp_path) as web:
        assert web.readyz()["database"] == "ok"
        [metrics] = [p.name for p in temp.iterdir() if p.name.startswith("assessbot-metrics-")]
        assert metrics.startswith(f"assessbot-metrics-{web.proc.pid}-")
    assert web.proc.returncode == 0
    assert sorted(p.name for p in temp.iterdir()) == ["another-program"]
    assert beside(database) == ["assessbot.db"]


def test_serve_stops_at_once_with_one_line_when_the_database_settings_are_wrong(tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    env = {**bot_env("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'a-file' / 'bot.db'}"), "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (f"assessbot cannot start: the SQLite database's directory "
                                            f"{tmp_path / 'a-file'} cannot be created ({tmp_path / 'a-file'} is a "
                                            "file); correct DATABASE_URL")
    assert "Traceback" not in done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("assessbot-metrics-")] == []
