"""Property: whatever arrives — any headers, any body, valid or tampered signatures — only 200/400/401/413
come back, nothing escapes as an exception, and nothing is written without a valid signature."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.ids import TOKEN
from tests.support.push import encrypt, sign

HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=80)
HEADER_VALUE = st.one_of(st.none(), st.just(""), HEADER_TEXT, st.integers(-10**20, 10**20).map(str),
                         st.floats(allow_nan=True).map(str), st.just("9" * 400))
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                       max_leaves=12)


@st.composite
def requests(draw):
    kind = draw(st.sampled_from(["garbage", "json", "event", "tampered", "card"]))
    if kind == "garbage":
        body = draw(st.binary(max_size=300))
    elif kind == "json":
        body = json.dumps(draw(JSONISH)).encode()
    else:
        payload = {"schema": "2.0", "header": {"event_id": draw(st.text(max_size=12)), "token": TOKEN,
                                               "event_type": draw(st.sampled_from(
                                                   ["im.message.receive_v1", "card.action.trigger", "x"]))},
                   "event": draw(JSONISH)}
        body = encrypt(payload)
    headers = {}
    if kind in ("event", "card") and draw(st.booleans()):
        ts, nonce = "1795600000", draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                                               max_size=16))
        headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                   "X-Lark-Signature": sign(ts, nonce, body)}
        signed = True
    else:
        for name in ("X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature"):
            value = draw(HEADER_VALUE)
            if value is not None:
                headers[name] = value
        signed = False
        if kind == "tampered" and body:
            ts, nonce = "1795600000", "n"
            headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
                       "X-Lark-Signature": sign(ts, nonce, body + b" ")}
    return body, headers, signed


def check(app, ctx, request) -> None:
    body, headers, signed = request
    before = sum(ctx.store.jobs_by_status().values())
    response = app.test_client().post("/feishu/events", data=body, headers=headers, content_type="application/json")
    assert response.status_code in (200, 400, 401, 413)
    if not signed:
        assert sum(ctx.store.jobs_by_status().values()) == before


QUICK = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
FULL = settings(QUICK, max_examples=10_000)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@QUICK
@given(request=requests())
def test_no_input_gets_anything_but_a_clean_answer(app, ctx, request):
    check(app, ctx, request)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FULL
@given(request=requests())
def test_ten_thousand_inputs_get_nothing_but_clean_answers(app, ctx, request):
    check(app, ctx, request)
