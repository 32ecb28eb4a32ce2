"""Open API calls reuse one keep-alive connection per thread, against the local Open API and under `responses`."""

from __future__ import annotations

import threading

import pytest
import responses

from bot.feishu import client as feishu
from bot.feishu import connection
from bot.sandbox.openapi import serve
from cards.notice import text_card
from tests.support.ids import DOMAIN, SANDBOX_APP_ID, SANDBOX_APP_SECRET
from tests.support.openapi import Feishu

BODY = {"conclusion": 2, "content": "clear thinker"}


@pytest.fixture(autouse=True)
def fresh_token_cache():
    connection.TOKENS.forget()
    yield
    connection.TOKENS.forget()


def opened(keep: connection.KeepAlive) -> int:
    """How many connections this thread's Session has opened so far."""
    pools = keep.session().get_adapter("http://").poolmanager.pools
    keys = pools.keys()  # the container refuses plain iteration
    return sum(pools[key].num_connections for key in keys)


def test_the_token_and_every_call_of_a_thread_go_over_one_connection():
    with serve() as sandbox:
        client = feishu.Feishu(SANDBOX_APP_ID, SANDBOX_APP_SECRET, sandbox.url)
        keep = connection.keep_connections_alive()
        before = opened(keep)
        client.patch_assessment("6930815272790114324", BODY)
        client.reply_card("om_parent", text_card("好", "OK"), "u1")
        client.patch_assessment("6930815272790114324", BODY)
        assert [c["endpoint"] for c in sandbox.api.calls()] == ["token", "patch", "reply", "patch"]
        # at most one connection for all four calls (none new when an earlier test left a pool on this port number)
        assert opened(keep) - before <= 1


def test_each_thread_has_its_own_session():
    keep = connection.keep_connections_alive()
    sessions = []
    thread = threading.Thread(target=lambda: sessions.append(keep.session()))
    thread.start()
    thread.join()
    assert sessions[0] is not keep.session()
    assert keep.session() is keep.session()


def test_responses_still_intercepts_the_calls():
    """The kept-alive sessions still pass through `responses`, where the in-process stand-in answers."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = Feishu(mock, app_id=SANDBOX_APP_ID, app_secret=SANDBOX_APP_SECRET)
        written = feishu.Feishu(SANDBOX_APP_ID, SANDBOX_APP_SECRET, DOMAIN).patch_assessment("1", BODY)
    assert written.log_id == fake.api.calls("patch")[0]["log_id"] and fake.patches() == [BODY]


def test_proxy_settings_are_read_from_the_environment_once_per_host_and_still_honoured(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "open.feishu.cn")
    session = connection.KeepAlive().session()
    assert session.merge_environment_settings("https://open.example.com/a", {}, None, None, None)["proxies"] == {
        "https": "http://proxy.example:3128", "no": "open.feishu.cn"}
    assert session.merge_environment_settings("https://open.feishu.cn/a", {}, None, None, None)["proxies"] == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")  # a process's environment is read once
    assert session.merge_environment_settings("https://open.example.com/b", {}, None, None, None)["proxies"][
        "https"] == "http://proxy.example:3128"
