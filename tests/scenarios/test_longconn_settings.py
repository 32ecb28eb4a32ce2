"""Long-connection mode's settings, form signing without an Encrypt Key, and `assessbot doctor` in that mode."""

from __future__ import annotations

import argparse

import pytest

from bot import auth
from bot.cli import doctor
from bot.sandbox.openapi import FakeOpenAPI, serve
from bot.sandbox.openapi.longconn import LongConnServer
from bot.settings import SettingsError, load
from tests.support.ids import SANDBOX_APP_ID, SANDBOX_APP_SECRET
from tests.support.longconn import longconn_settings

pytestmark = pytest.mark.usefixtures("bare_environment")


def test_long_connection_mode_needs_no_encrypt_key_or_token(monkeypatch):
    """It starts in longconn mode with the app's credentials alone (the mode's name in any case)."""
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    monkeypatch.setenv("FEISHU_EVENT_MODE", "LongConn")
    loaded = load(None)
    assert (loaded.feishu_event_mode, loaded.feishu_encrypt_key, loaded.feishu_verification_token) == (
        "longconn", "", "")
    assert not loaded.webhook_keys


def test_webhook_mode_still_fails_closed_without_its_secrets(monkeypatch):
    """It names both missing secrets in webhook mode, the default and when chosen."""
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    for mode in (None, "webhook"):
        if mode:
            monkeypatch.setenv("FEISHU_EVENT_MODE", mode)
        with pytest.raises(SettingsError) as caught:
            load(None)
        assert str(caught.value).splitlines() == ["  - FEISHU_VERIFICATION_TOKEN is not set",
                                                  "  - FEISHU_ENCRYPT_KEY is not set"]


def test_an_unknown_mode_is_named(monkeypatch):
    monkeypatch.setenv("FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("FEISHU_APP_SECRET", "s")
    monkeypatch.setenv("FEISHU_EVENT_MODE", "websocket")
    with pytest.raises(SettingsError) as caught:
        load(None)
    assert str(caught.value).splitlines()[0] == (
        "  - FEISHU_EVENT_MODE must be webhook (Feishu POSTs to /feishu/events) or longconn (the bot connects out "
        "to Feishu)")


def test_forms_are_signed_with_the_app_secret_when_there_is_no_encrypt_key(tmp_path):
    """It signs and checks forms without an Encrypt Key, with a key only this app's secret gives."""
    plain = longconn_settings(f"sqlite:///{tmp_path / 'a.db'}", "https://open.feishu.cn")
    other = plain.model_copy(update={"feishu_app_secret": "another secret"})
    keyed = plain.model_copy(update={"feishu_encrypt_key": "an encrypt key"})
    form = auth.sign_form(plain, "6930815272790114324", "ou_a", "n1")
    assert auth.form_is_for(plain, form, "ou_a").allowed
    assert not auth.form_is_for(other, form, "ou_a").allowed
    assert not auth.form_is_for(keyed, form, "ou_a").allowed


@pytest.fixture
def local_feishu():
    gateway = LongConnServer(app_id=SANDBOX_APP_ID, app_secret=SANDBOX_APP_SECRET).start(http=False)
    openapi = serve(api=FakeOpenAPI(longconn=gateway))
    yield openapi, gateway
    openapi.stop()
    gateway.stop()


def diagnose() -> tuple[int, list[str]]:
    lines: list[str] = []
    return doctor.run(argparse.Namespace(url=None, env_file=None), out=lines.append), lines


def test_doctor_checks_the_endpoint_and_lists_the_long_connection_console_settings(monkeypatch, local_feishu):
    """It asks the endpoint without connecting, and lists the subscription mode, event and callback to set."""
    openapi, gateway = local_feishu
    for name, value in {"FEISHU_APP_ID": SANDBOX_APP_ID, "FEISHU_APP_SECRET": SANDBOX_APP_SECRET,
                        "FEISHU_DOMAIN": openapi.url, "FEISHU_EVENT_MODE": "longconn"}.items():
        monkeypatch.setenv(name, value)
    status, lines = diagnose()
    assert status == 0, "\n".join(lines)
    section = lines.index(f"Long connection (FEISHU_EVENT_MODE=longconn, {openapi.url})")
    assert lines[section + 1] == ("  ✓ the endpoint hands this app a connection (none opened: the running bot keeps "
                                  "its own)")
    assert gateway.handshakes == 0
    console = lines[lines.index(next(x for x in lines if x.startswith("Developer console"))) + 1:]
    assert ("  · Event configuration (事件配置): subscription mode 使用长连接接收事件 (receive events through "
            "persistent connection); subscribe to im.message.receive_v1 (Receive messages v2.0)") in console
    assert ("  · Callback configuration (回调配置): subscription mode 使用长连接接收回调 (receive callbacks through "
            "persistent connection); subscribe to card.action.trigger") in console
    assert not any("request URL" in line for line in console)


def test_doctor_reports_an_endpoint_that_gives_no_connection(monkeypatch, local_feishu):
    """It fails with the endpoint's reason when Feishu would not open the connection."""
    openapi, gateway = local_feishu
    gateway.busy = True
    for name, value in {"FEISHU_APP_ID": SANDBOX_APP_ID, "FEISHU_APP_SECRET": SANDBOX_APP_SECRET,
                        "FEISHU_DOMAIN": openapi.url, "FEISHU_EVENT_MODE": "longconn"}.items():
        monkeypatch.setenv(name, value)
    status, lines = diagnose()
    assert status == 1
    assert any(line.startswith("  ✗ the endpoint gives no connection: 1: system busy.") for line in lines)
