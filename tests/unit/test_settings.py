"""Settings fail closed: missing secrets, a non-https domain or a bad rubric stop the bot with one clear message."""

from __future__ import annotations

import pytest

from bot import rubric
from bot.settings import SettingsError, load
from tests.support.ids import ROOT

GOOD = {"FEISHU_APP_ID": "cli_x", "FEISHU_APP_SECRET": "s", "FEISHU_VERIFICATION_TOKEN": "v", "FEISHU_ENCRYPT_KEY": "k"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in [*GOOD, "FEISHU_DOMAIN", "DATABASE_URL", "ASSESSBOT_RUBRIC", "ASSESSBOT_ADMINS"]:
        monkeypatch.delenv(name, raising=False)


def test_every_missing_secret_is_named_at_once(monkeypatch):
    with pytest.raises(SettingsError) as caught:
        load(None)
    assert str(caught.value).splitlines() == ["  - FEISHU_APP_ID is not set", "  - FEISHU_APP_SECRET is not set",
                                              "  - FEISHU_VERIFICATION_TOKEN is not set",
                                              "  - FEISHU_ENCRYPT_KEY is not set"]


@pytest.mark.parametrize("domain,ok", [("https://open.feishu.cn", True), ("https://open.larksuite.com/", True),
                                       ("http://127.0.0.1:8080", True), ("http://[::1]:9", True),
                                       ("http://localhost:1", True), ("http://open.feishu.cn", False),
                                       ("https://open.feishu.cn/open-apis", False), ("ftp://x", False),
                                       ("https://user:pw@host", False)])
def test_the_open_api_domain_must_be_https_except_on_loopback(monkeypatch, domain, ok):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEISHU_DOMAIN", domain)
    if ok:
        assert load(None).feishu_domain == domain.rstrip("/")
    else:
        with pytest.raises(SettingsError, match="FEISHU_DOMAIN"):
            load(None)


def test_an_empty_secret_counts_as_missing(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FEISHU_ENCRYPT_KEY", "")
    with pytest.raises(SettingsError, match="FEISHU_ENCRYPT_KEY is empty"):
        load(None)


def test_lists_are_read_comma_separated(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ASSESSBOT_ADMINS", "ou_a, ou_b,,")
    assert load(None).assessbot_admins == ("ou_a", "ou_b")


def test_secrets_never_appear_in_the_settings_repr(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value + "-secret-value")
    shown = repr(load(None))
    assert "s-secret-value" not in shown and "v-secret-value" not in shown and "k-secret-value" not in shown




def test_every_shipped_rubric_and_form_mapping_loads():
    from bot.forms import mapping

    for path in (ROOT / "config").glob("*.toml"):
        if path.name.startswith("forms"):
            assert mapping.load(path).rules
        else:
            assert rubric.load(path).dimensions


@pytest.mark.parametrize("text,message", [
    ("[[dimensions]]\nkey='a'\ntitle='A'\ntype='score'\n", "dimension #1 ('a'): a score dimension needs min and max"),
    ("[[dimensions]]\nkey='a'\ntitle='A'\ntype='single'\n", "dimension #1 ('a'): a single dimension needs options"),
    ("[[dimensions]]\nkey='a'\ntitle='A'\ntype='text'\n[[dimensions]]\nkey='A'\ntitle='B'\ntype='text'\n",
     "name 'A' of 'A' is already used by 'a'"),
    ("[[dimensions]]\nkey='a'\ntitle='A'\ntype='score'\nmin=5\nmax=1\n", "min (5) is greater than max (1)"),
    ("[[dimensions]]\nkey='a'\ntitle='A'\ntype='essay'\n", "dimension #1 ('a'): type"),
    ("dimensions = 3", "needs at least one [[dimensions]] entry"),
    ("[[dimensions]\n", "not valid TOML"),
])
def test_a_bad_rubric_is_named_by_file_and_entry(tmp_path, text, message):
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rubric.RubricError) as caught:
        rubric.load(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)
