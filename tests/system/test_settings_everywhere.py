"""Every setting takes effect from .env as from the environment, gunicorn's included; `make clean` keeps databases."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bot import settings as settings_module
from bot.sandbox.processes import children, clean_env, free_port, stop_group, wait_until
from bot.settings import ServerSettings, Settings, SettingsError
from tests.support.ids import ROOT

EXAMPLE = ROOT / "config" / "assessbot.env.example"
CONF = ROOT / "config" / "gunicorn.conf.py"
PYTHON = sys.executable
SECRETS = {"FEISHU_APP_ID": "cli_dotenv", "FEISHU_APP_SECRET": "dotenv-app-secret",
           "FEISHU_VERIFICATION_TOKEN": "dotenv-verification-token", "FEISHU_ENCRYPT_KEY": "dotenv-encrypt-key"}
SERVER_NAMES = ("HOST", "PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "ASSESSBOT_ACCESS_LOG",
                "ASSESSBOT_LOG_FORMAT", "ASSESSBOT_LOG_LEVEL")


def write_env(directory: Path, **values: object) -> Path:
    path = directory / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
    return path


@pytest.fixture
def no_server_env(monkeypatch):
    for name in SERVER_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_the_server_settings_come_from_dotenv_and_the_environment_wins(tmp_path, monkeypatch, no_server_env):
    env_file = write_env(tmp_path, PORT=9101, HOST="127.0.0.1", WEB_CONCURRENCY=3, GUNICORN_THREADS=4,
                         ASSESSBOT_ACCESS_LOG=1, ASSESSBOT_LOG_FORMAT="TEXT")
    server = settings_module.load_server(env_file)
    assert (server.host, server.port, server.web_concurrency, server.gunicorn_threads) == ("127.0.0.1", 9101, 3, 4)
    assert server.assessbot_access_log is True and server.assessbot_log_format == "text"
    monkeypatch.setenv("PORT", "9102")
    assert settings_module.load_server(env_file).port == 9102


def test_bad_server_settings_are_named_one_per_line(tmp_path, no_server_env):
    env_file = write_env(tmp_path, PORT="eighty", WEB_CONCURRENCY=0, ASSESSBOT_LOG_FORMAT="xml")
    with pytest.raises(SettingsError) as caught:
        settings_module.load_server(env_file)
    lines = str(caught.value).splitlines()
    assert [line.split()[1] for line in lines] == ["PORT", "WEB_CONCURRENCY", "ASSESSBOT_LOG_FORMAT"]
    assert lines[2] == ("  - ASSESSBOT_LOG_FORMAT must be auto (text on a terminal, JSON otherwise), json (one JSON "
                        "object per line) or text (for a terminal)")


def read_conf(cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Evaluate config/gunicorn.conf.py as gunicorn does (a module run from `cwd`) and print what it sets."""
    names = ("bind", "workers", "threads", "accesslog", "logger_class")
    code = f"import json, runpy; g = runpy.run_path({str(CONF)!r}); print(json.dumps({{k: g[k] for k in {names}}}))"
    return subprocess.run([PYTHON, "-c", code], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
                          timeout=60)


def test_gunicorn_conf_reads_dotenv_and_the_environment_wins(tmp_path):
    write_env(tmp_path, HOST="127.0.0.1", PORT=9201, WEB_CONCURRENCY=3, GUNICORN_THREADS=5, ASSESSBOT_ACCESS_LOG=1)
    result = read_conf(tmp_path, WEB_CONCURRENCY="4")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"bind": "127.0.0.1:9201", "workers": 4, "threads": 5, "accesslog": "-",
                                         "logger_class": "bot.logs.GunicornLogger"}


def test_gunicorn_conf_defaults_without_dotenv(tmp_path):
    result = read_conf(tmp_path)
    assert json.loads(result.stdout) == {"bind": "0.0.0.0:8000", "workers": 2, "threads": 8, "accesslog": None,
                                         "logger_class": "bot.logs.GunicornLogger"}


def test_gunicorn_conf_refuses_a_bad_value_without_a_traceback(tmp_path):
    write_env(tmp_path, GUNICORN_THREADS="many")
    result = read_conf(tmp_path)
    assert result.returncode == 1
    assert "GUNICORN_THREADS Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_assessbot_run_with_some_credentials_in_dotenv_names_the_rest(tmp_path):
    write_env(tmp_path, FEISHU_APP_ID="cli_only_this")
    result = subprocess.run([PYTHON, "-m", "bot.cli", "run"], cwd=tmp_path, env=clean_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "FEISHU_APP_SECRET is not set" in result.stderr and "FEISHU_APP_ID" not in result.stderr


def test_assessbot_run_serves_where_dotenv_says(tmp_path):
    """`assessbot run` with the credentials, PORT and gunicorn's settings only in .env: reachable on that port."""
    port = free_port()
    write_env(tmp_path, **SECRETS, FEISHU_DOMAIN="http://127.0.0.1:9", FEISHU_BOT_OPEN_ID="ou_bot",
              DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", HOST="127.0.0.1", PORT=port, WEB_CONCURRENCY=1,
              GUNICORN_THREADS=2, ASSESSBOT_ACCESS_LOG=1, ASSESSBOT_LOG_LEVEL="INFO")
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([PYTHON, "-m", "bot.cli", "run"], cwd=tmp_path, env=clean_env(PYTHONUNBUFFERED=1),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def healthy() -> bool:
                assert proc.poll() is None, log_path.read_text()
                try:
                    return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            wait_until(healthy, 90.0, 0.2, "assessbot run to answer /healthz")
            assert len(children(proc.pid)) == 1  # WEB_CONCURRENCY=1 from .env
            wait_until(lambda: '"path": "/healthz"' in log_path.read_text(), 10.0, 0.1, "the access record")
        finally:
            stop_group(proc)
    records = [json.loads(line) for line in log_path.read_text().splitlines()]  # every line is one JSON object
    assert any(r["logger"] == "gunicorn.error" and r["msg"] == f"Listening at: http://127.0.0.1:{port} ({proc.pid})"
               for r in records)
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert access[0]["msg"] == "request" and access[0]["path"] == "/healthz" and access[0]["status"] == 200
    assert not any(secret in log_path.read_text() for secret in SECRETS.values() if secret != "cli_dotenv")


def example_assignments() -> dict[str, str]:
    """Every NAME=value line of the example, commented out or not (one line of comment after `#` allowed)."""
    found = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(?:# )?([A-Z][A-Z0-9_]*)=(\S*)(?:\s+# \S.*)?", line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def test_the_example_lists_every_setting():
    names = {name.upper() for name in Settings.model_fields}
    assert names - set(example_assignments()) == set()
    assert {name.upper() for name in ServerSettings.model_fields} <= names


def test_the_example_values_are_valid_settings_when_uncommented(tmp_path, monkeypatch, no_server_env):
    """Uncommenting a line of the example (its trailing comment included) gives a setting the bot accepts."""
    for name in {name.upper() for name in Settings.model_fields}:
        monkeypatch.delenv(name, raising=False)
    lines = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.removeprefix("# ")
        if re.match(r"[A-Z][A-Z0-9_]*=", line) and not line.startswith(("DATABASE_URL=postgresql", "ASSESSBOT_RUBRIC")):
            lines.append(line)
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    loaded = settings_module.load(tmp_path / ".env")
    assert loaded.assessbot_patch_rate == 20 and loaded.gunicorn_threads == 8 and loaded.port == 8000
    assert loaded.assessbot_log_format == "auto" and loaded.assessbot_access_log is False


SANDBOX_FILES = ("sandbox.db", "sandbox.db-wal", "sandbox.db-shm", "sandbox-openapi.json", "sandbox-bot.log",
                 "sandbox-openapi.log", "sandbox-session.json")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_keeps_the_database(tmp_path):
    """After a sandbox run, `make clean` removes the sandbox's files, .venv, caches and the build's egg-info, never
    var/assessbot.db."""
    var = tmp_path / "var"
    var.mkdir()
    for name in (*SANDBOX_FILES, "assessbot.db", "assessbot.db-wal", "production-backup.db"):
        (var / name).write_text("x")
    for cache in (".venv/bin", ".pytest_cache", ".ruff_cache", ".hypothesis", "bot/__pycache__", "assessbot.egg-info"):
        (tmp_path / cache).mkdir(parents=True)
    result = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), "clean"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in var.iterdir()) == ["assessbot.db", "assessbot.db-wal", "production-backup.db"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot", "var"]
    assert list((tmp_path / "bot").iterdir()) == []

