"""The deployment guide's example files are checked by the tools that read them, where those are installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.support.ids import ROOT

CONFIG = ROOT / "config"
GUIDE = ROOT / "docs" / "deploy.md"
README = ROOT / "README.md"
PUBLIC = {"/feishu/events", "/healthz", "/api/interviews"}  # what Feishu, an uptime check and an ATS call
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


def test_both_proxies_pass_exactly_what_the_docs_call_on_the_public_url():
    caddy = (CONFIG / "Caddyfile.example").read_text(encoding="utf-8")
    nginx = (CONFIG / "nginx.conf.example").read_text(encoding="utf-8")
    by_caddy = {path for paths in re.findall(r"^\s*@\w+ path (.+)$", caddy, re.M) for path in paths.split()}
    by_nginx = set(re.findall(r"^\s*location = (\S+) \{", nginx, re.M))
    called = {path for doc in (README, GUIDE)
              for path in re.findall(r"https://bot\.example\.com(/[^\s`'\")]*)", doc.read_text(encoding="utf-8"))}
    assert by_caddy == by_nginx == PUBLIC
    assert called and called <= PUBLIC, called - PUBLIC


def test_one_body_limit_everywhere_and_it_is_the_bots_own():
    """A proxy with a smaller limit drops a long pasted comment with no answer to the interviewer."""
    caddy = (CONFIG / "Caddyfile.example").read_text(encoding="utf-8")
    nginx = (CONFIG / "nginx.conf.example").read_text(encoding="utf-8")
    example = (CONFIG / "assessbot.env.example").read_text(encoding="utf-8")
    [by_caddy] = re.findall(r"^\s*max_size (\d+)([KMG]i?B)?$", caddy, re.M)
    [by_nginx] = re.findall(r"^\s*client_max_body_size (\d+)([kmg]?);", nginx, re.M)
    [by_example] = re.findall(r"^# ASSESSBOT_MAX_BODY_BYTES=(\d+)\b", example, re.M)
    caddy_units = {"": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
    nginx_units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    limits = {int(by_caddy[0]) * caddy_units[by_caddy[1]], int(by_nginx[0]) * nginx_units[by_nginx[1]],
              int(by_example)}
    assert limits == {Settings.model_fields["assessbot_max_body_bytes"].default}


def test_the_readme_commands_table_names_every_command():
    import bot.commands  # noqa: F401  (registers them)
    from bot.commands import registry

    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands"):text.index("\n\n", text.index("| command |"))]
    listed = set(re.findall(r"^\| `/(\w+)", table, re.M))
    assert listed == {declared.name for declared in registry.declarations()}
