"""Request authentication as pure functions: fixed vectors, the replay window, odd headers."""

from __future__ import annotations

import json

import pytest

from bot.feishu import security
from bot.feishu.security import Rejected, Secrets, authenticate, signature, signature_is_valid
from tests.support.ids import ENCRYPT_KEY, PAYLOADS
from tests.support.push import encrypt, sign

SAMPLE_TOKEN = "xxxxxx"  # the Verification Token of the documented samples
SECRETS = Secrets(ENCRYPT_KEY, SAMPLE_TOKEN)
CHALLENGE_BODY = (PAYLOADS / "encrypted_challenge.txt").read_bytes()
NOW = 1_700_000_000


def headers(body: bytes, ts: str = str(NOW), nonce: str = "2d6bc2d5a8b34a5f") -> dict:
    return {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": sign(ts, nonce, body)}


def event(token: str = SAMPLE_TOKEN) -> dict:
    return {"schema": "2.0", "header": {"event_id": "e1", "event_type": "im.message.receive_v1", "token": token},
            "event": {}}


def test_the_documented_aes_vector_decrypts():
    body = json.dumps({"encrypt": "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}).encode()
    with pytest.raises(Rejected) as caught:  # "hello world" is not JSON: decrypted, then refused as malformed
        security.decrypt(body, "test key")
    assert caught.value.status == 400 and "not JSON" in caught.value.reason


def test_the_signature_matches_a_fixed_vector():
    given = "a476b1ee616d4c3a4e0200325710c32167294b21c252cad229616665d74b475e"
    assert signature("1700000000", "2d6bc2d5a8b34a5f", "test key", CHALLENGE_BODY) == given
    assert signature_is_valid("1700000000", "2d6bc2d5a8b34a5f", "test key", CHALLENGE_BODY, given)
    assert not signature_is_valid("1700000000", "2d6bc2d5a8b34a5f", "test key", CHALLENGE_BODY, given[:-1] + "f")


def test_an_unsigned_encrypted_challenge_with_the_right_token_is_accepted():
    payload = authenticate(CHALLENGE_BODY, {}, SECRETS, now=NOW, window=300)
    assert payload == {"challenge": "ajls384kdjxxxx", "token": "xxxxxx", "type": "url_verification"}


def test_a_signed_challenge_is_accepted_too():
    assert authenticate(CHALLENGE_BODY, headers(CHALLENGE_BODY), SECRETS, now=NOW, window=300)["challenge"]


@pytest.mark.parametrize("payload", [event(), {"type": "event_callback", "token": SAMPLE_TOKEN}])
def test_an_unsigned_request_that_is_not_a_challenge_is_refused(payload):
    with pytest.raises(Rejected) as caught:
        authenticate(encrypt(payload), {}, SECRETS, now=NOW, window=300)
    assert caught.value.status == 401


def test_a_signed_event_decrypts():
    body = encrypt(event())
    assert authenticate(body, headers(body), SECRETS, now=NOW, window=300) == event()


@pytest.mark.parametrize("skew,ok", [(-300, True), (300, True), (-301, False), (301, False)])
def test_the_replay_window_holds_in_both_directions(skew, ok):
    body = encrypt(event())
    sent = headers(body, ts=str(NOW + skew))
    if ok:
        assert authenticate(body, sent, SECRETS, now=NOW, window=300)
    else:
        with pytest.raises(Rejected) as caught:
            authenticate(body, sent, SECRETS, now=NOW, window=300)
        assert caught.value.status == 401


def test_a_one_byte_change_to_the_body_is_refused():
    body = encrypt(event())
    sent = headers(body)
    with pytest.raises(Rejected) as caught:
        authenticate(body[:-2] + b"A" + body[-1:], sent, SECRETS, now=NOW, window=300)
    assert caught.value.status == 401


def test_a_signature_copied_onto_another_body_is_refused():
    body, other = encrypt(event()), encrypt(event())
    with pytest.raises(Rejected):
        authenticate(other, headers(body), SECRETS, now=NOW, window=300)


def test_a_wrong_verification_token_inside_a_signed_body_is_refused():
    body = encrypt(event(token="other"))
    with pytest.raises(Rejected) as caught:
        authenticate(body, headers(body), SECRETS, now=NOW, window=300)
    assert caught.value.status == 401


@pytest.mark.parametrize("name,value", [
    ("X-Lark-Request-Timestamp", ""), ("X-Lark-Request-Timestamp", "abc"), ("X-Lark-Request-Timestamp", "1.5"),
    ("X-Lark-Request-Timestamp", "9" * 40), ("X-Lark-Request-Timestamp", "-5"), ("X-Lark-Request-Timestamp", "١٢٣"),
    ("X-Lark-Signature", ""), ("X-Lark-Signature", "é" * 64), ("X-Lark-Signature", "x" * 10_000),
    ("X-Lark-Request-Nonce", ""), ("X-Lark-Signature", "\udcff" * 4),
])
def test_odd_header_values_are_refused_cleanly(name, value):
    body = encrypt(event())
    sent = headers(body) | {name: value}
    with pytest.raises(Rejected) as caught:
        authenticate(body, sent, SECRETS, now=NOW, window=300)
    assert caught.value.status == 401


def test_a_partial_set_of_signature_headers_is_refused():
    body = encrypt(event())
    sent = headers(body)
    del sent["X-Lark-Request-Nonce"]
    with pytest.raises(Rejected) as caught:
        authenticate(body, sent, SECRETS, now=NOW, window=300)
    assert caught.value.status == 401


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'{"encrypt": 5}', b'{"encrypt": "!!!"}',
                                  b'{"encrypt": "AAAA"}', b"\xff\xfe"])
def test_a_signed_but_malformed_body_is_a_400(body):
    with pytest.raises(Rejected) as caught:
        authenticate(body, headers(body), SECRETS, now=NOW, window=300)
    assert caught.value.status == 400


def test_secrets_are_required():
    with pytest.raises(ValueError):
        Secrets("", "token")
    with pytest.raises(ValueError):
        Secrets("key", "")
