"""The deployment guide's example files are checked by the tools that read them, where those are installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

pytestmark = pytest.mark.system  # starts processes

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
GUIDE = ROOT / "docs" / "deploy.md"
BIN = Path(sys.executable).parent


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed, so its example file is not checked here")
    return path


@pytest.mark.parametrize("unit", ["assessbot-web", "assessbot-worker"])
def test_the_systemd_units_verify(unit, tmp_path):
    systemd_analyze = need("systemd-analyze")
    # Point the unit at this checkout: systemd-analyze checks that ExecStart's program exists.
    text = (CONFIG / f"{unit}.service.example").read_text(encoding="utf-8")
    text = text.replace("/opt/assessbot/.venv/bin/", f"{BIN}/").replace("/opt/assessbot", str(ROOT))
    path = tmp_path / f"{unit}.service"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([systemd_analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    # A bad value is only a warning (exit status 0), so any line naming the unit counts as a failure.
    about_unit = [line for line in (result.stdout + result.stderr).splitlines() if unit in line]
    assert result.returncode == 0 and about_unit == [], result.stdout + result.stderr


def test_the_caddyfile_validates(tmp_path):
    caddy = need("caddy")
    command = [caddy, "validate", "--adapter", "caddyfile", "--config", str(CONFIG / "Caddyfile.example")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_nginx_config_passes_nginx_t(tmp_path):
    nginx = need("nginx")
    openssl = need("openssl")  # nginx -t loads the certificate, so the test makes a throw-away one
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=bot.example.com", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    site = (CONFIG / "nginx.conf.example").read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/bot.example.com/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/bot.example.com/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "assessbot.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"    {kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                              "scgi"))
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
                                         f"events {{}}\nhttp {{\n    access_log off;\n{temp}\n"
                                         f"    include {tmp_path / 'assessbot.conf'};\n}}\n", encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_the_readme_links_the_guide():
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_guide_names_only_commands_and_settings_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    help_text = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    commands = set(re.findall(r"(?:`|bin/)assessbot ([a-z]+)\b", text))
    assert commands and all(f"    {command} " in help_text for command in commands), commands
    settings = {name.upper() for name in Settings.model_fields}
    named = set(re.findall(r"\b((?:FEISHU|ASSESSBOT)_[A-Z_]+|DATABASE_URL|WEB_CONCURRENCY|GUNICORN_THREADS)\b", text))
    assert named - settings - {"FEISHU_EVENT_MODE"} == set()


def test_the_guide_links_only_files_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((\.\./[^)#]+)", text):
        assert (GUIDE.parent / target).exists(), target
