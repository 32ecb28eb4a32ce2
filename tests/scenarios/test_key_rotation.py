"""Key rotation: while the Encrypt Key or Verification Token changes, pushes with either value are accepted."""

from __future__ import annotations

import json

import pytest

from bot.feishu import security
from bot.feishu.security import Rejected, Secrets, authenticate
from tests.support.ids import ENCRYPT_KEY, TOKEN, load_payload, make_settings
from tests.support.push import encrypt, sign

NEW_KEY, NEW_TOKEN = "the new encrypt key", "the-new-verification-token"
NOW = 1_700_000_000
ROTATING = Secrets(NEW_KEY, NEW_TOKEN, previous_encrypt_key=ENCRYPT_KEY, previous_verification_token=TOKEN)
# Until bot/flows/receive.py builds Secrets with the FEISHU_*_PREVIOUS settings and logs `key` of the push.


def event(token: str) -> dict:
    return {"schema": "2.0", "header": {"event_id": "e1", "event_type": "im.message.receive_v1", "token": token},
            "event": {}}


def signed(body: bytes, key: str, ts: int = NOW) -> dict:
    return {"X-Lark-Request-Timestamp": str(ts), "X-Lark-Request-Nonce": "n1",
            "X-Lark-Signature": sign(str(ts), "n1", body, key)}


@pytest.mark.parametrize("key,token,which", [(NEW_KEY, NEW_TOKEN, "current"), (ENCRYPT_KEY, TOKEN, "previous"),
                                             (NEW_KEY, TOKEN, "previous"), (ENCRYPT_KEY, NEW_TOKEN, "previous")])
def test_a_push_with_current_or_previous_secrets_is_accepted_and_says_which(key, token, which):
    body = encrypt(event(token), key)
    payload = authenticate(body, signed(body, key), ROTATING, now=NOW, window=300)
    assert payload == event(token) and payload.key == which


@pytest.mark.parametrize("key,token,reason", [("a key never configured", NEW_TOKEN, "signature mismatch"),
                                              (NEW_KEY, "a token never configured", "verification token mismatch")])
def test_a_push_with_neither_is_refused(key, token, reason):
    body = encrypt(event(token), key)
    with pytest.raises(Rejected) as caught:
        authenticate(body, signed(body, key), ROTATING, now=NOW, window=300)
    assert (caught.value.status, caught.value.reason) == (401, reason)


def test_without_previous_secrets_the_old_ones_are_refused():
    body = encrypt(event(TOKEN), ENCRYPT_KEY)
    with pytest.raises(Rejected) as caught:
        authenticate(body, signed(body, ENCRYPT_KEY), Secrets(NEW_KEY, NEW_TOKEN), now=NOW, window=300)
    assert caught.value.reason == "signature mismatch"


def test_every_key_is_checked_so_time_does_not_tell_which_matched(monkeypatch):
    checked = []
    real = security.signature_is_valid

    def counting(timestamp, nonce, key, body, given):  # type: ignore[no-untyped-def]
        checked.append(key)
        return real(timestamp, nonce, key, body, given)

    monkeypatch.setattr(security, "signature_is_valid", counting)
    body = encrypt(event(NEW_TOKEN), NEW_KEY)
    assert authenticate(body, signed(body, NEW_KEY), ROTATING, now=NOW, window=300).key == "current"
    assert checked == [NEW_KEY, ENCRYPT_KEY]


@pytest.mark.parametrize("key,token,which", [(NEW_KEY, NEW_TOKEN, "current"), (ENCRYPT_KEY, TOKEN, "previous")])
def test_the_unsigned_url_check_opens_with_either_key(key, token, which):
    challenge = {"challenge": "ajls384kdjxxxx", "token": token, "type": "url_verification"}
    payload = authenticate(encrypt(challenge, key), {}, ROTATING, now=NOW, window=300)
    assert payload == challenge and payload.key == which


def test_the_unsigned_url_check_with_an_unknown_key_is_refused():
    challenge = {"challenge": "x", "token": NEW_TOKEN, "type": "url_verification"}
    with pytest.raises(Rejected) as caught:
        authenticate(encrypt(challenge, "a key never configured"), {}, ROTATING, now=NOW, window=300)
    assert caught.value.status == 401


# -- through the app, as Feishu pushes ---------------------------------------------------------------------------

@pytest.fixture
def settings(database_url):
    """The app after the console switched to new secrets; the tests' usual ones are now the previous ones."""
    return make_settings(database_url, feishu_encrypt_key=NEW_KEY, feishu_verification_token=NEW_TOKEN,
                         feishu_encrypt_key_previous=ENCRYPT_KEY, feishu_verification_token_previous=TOKEN)


def push_help(app, clock, key: str, token: str, event_id: str):  # type: ignore[no-untyped-def]
    payload = load_payload("im_message_receive_v1.json")
    payload["header"].update(token=token, event_id=event_id)
    payload["event"]["message"].update(content=json.dumps({"text": "/help"}), message_id=f"om_{event_id}")
    body = encrypt(payload, key)
    return app.test_client().post("/feishu/events", data=body, headers=signed(body, key, int(clock())),
                                  content_type="application/json")


def records(logs) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in logs.getvalue().splitlines()]


def test_a_push_with_the_new_secrets_is_accepted(app, clock, logs):
    assert push_help(app, clock, NEW_KEY, NEW_TOKEN, "ev_new").status_code == 200


def test_a_push_with_secrets_never_configured_is_refused(app, clock, logs):
    response = push_help(app, clock, "a key never configured", NEW_TOKEN, "ev_bad")
    assert response.status_code == 401 and response.get_json() == {"error": "unauthorized"}


def test_a_push_with_the_previous_secrets_is_accepted_and_logged_as_previous(app, clock, logs):
    assert push_help(app, clock, ENCRYPT_KEY, TOKEN, "ev_old").status_code == 200
    assert [r["key"] for r in records(logs) if r.get("event_id") == "ev_old" and "key" in r] == ["previous"]


def test_a_push_with_the_new_secrets_is_logged_as_current(app, clock, logs):
    assert push_help(app, clock, NEW_KEY, NEW_TOKEN, "ev_new").status_code == 200
    assert [r["key"] for r in records(logs) if r.get("event_id") == "ev_new" and "key" in r] == ["current"]


def test_the_url_check_sealed_with_the_previous_key_is_answered(app, logs):
    body = encrypt({"challenge": "c-rotation", "token": TOKEN, "type": "url_verification"}, ENCRYPT_KEY)
    response = app.test_client().post("/feishu/events", data=body, content_type="application/json")
    assert response.status_code == 200 and response.get_json() == {"challenge": "c-rotation"}


def test_the_previous_secrets_are_scrubbed_from_logs_too(settings):
    assert settings.secret_values() == ("app-secret-value", NEW_KEY, NEW_TOKEN, ENCRYPT_KEY, TOKEN)
    assert "the new encrypt key" not in repr(settings) and ENCRYPT_KEY not in repr(settings)
