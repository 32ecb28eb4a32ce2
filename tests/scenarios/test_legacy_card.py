"""Legacy (1.0) card callbacks: the sha1 signature with the Verification Token, and the typed action."""

from __future__ import annotations

import json

import pytest

from bot.feishu import events
from bot.feishu.security import (
    Rejected,
    Secrets,
    authenticate,
    authenticate_legacy_card,
    legacy_card_signature,
)
from tests.support.ids import ENCRYPT_KEY, load_payload
from tests.support.push import encrypt

SAMPLE_TOKEN = "xxxxxx"  # the Verification Token of the documented samples
SECRETS = Secrets(ENCRYPT_KEY, SAMPLE_TOKEN)
NOW = 1_700_000_000
SAMPLE = load_payload("card_action_trigger_v1.json")
BODY = json.dumps(SAMPLE, ensure_ascii=False).encode()


def headers(body: bytes, ts: str = str(NOW), nonce: str = "2d6bc2d5a8b34a5f", token: str = SAMPLE_TOKEN) -> dict:
    return {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": legacy_card_signature(ts, nonce, token, body)}


def test_the_legacy_signature_is_sha1_over_timestamp_nonce_token_and_body():
    """A fixed vector: sha1("1700000000" + "nonce" + "xxxxxx" + b"{}")."""
    assert legacy_card_signature("1700000000", "nonce", "xxxxxx", b"{}") == "1e39981f70afabbe97eead9c0e3af2917647a01b"


def test_the_sdk_accepts_the_signature_we_compute():
    """lark-oapi's own legacy handler (CardActionHandler) verifies our header and runs its processor."""
    import lark_oapi as lark
    from lark_oapi.core.model import RawRequest

    seen = []
    handler = lark.CardActionHandler.builder("", SAMPLE_TOKEN).register(lambda card: seen.append(card) or {}).build()
    request = RawRequest()
    request.uri, request.body, request.headers = "/feishu/cards", BODY, headers(BODY)
    response = handler.do(request)
    assert response.status_code == 200
    assert seen[0].open_message_id == "om_abcdefg1234567890"


def test_a_documented_legacy_callback_authenticates_and_parses():
    payload = authenticate_legacy_card(BODY, headers(BODY), SECRETS, now=NOW, window=300)
    action = events.parse_legacy_card(payload)
    assert action == events.LegacyCardAction(
        event_id=action.event_id, operator_open_id="ou_sdfimx9948345", update_token="c-xxxxx", tag="button",
        name="Button_lvkepfu3", value={"key": "value"}, form_value=SAMPLE["action"]["form_value"],
        open_message_id="om_abcdefg1234567890", open_chat_id="", user_id="eu_sd923r0sdf5", tenant_key="d32004232",
        timezone="Asia/Shanghai")
    assert action.event_id.startswith("card1_") and len(action.event_id) == 38


def test_the_same_click_pushed_twice_has_the_same_event_id_and_another_click_another():
    again = events.parse_legacy_card(json.loads(BODY))
    other = events.parse_legacy_card({**SAMPLE, "action": {**SAMPLE["action"], "value": {"key": "other"}}})
    assert events.parse_legacy_card(SAMPLE).event_id == again.event_id != other.event_id


def test_an_encrypted_legacy_callback_is_verified_over_the_encrypted_body():
    body = encrypt(SAMPLE)
    assert authenticate_legacy_card(body, headers(body), SECRETS, now=NOW, window=300) == SAMPLE


def test_the_new_event_check_refuses_a_legacy_callback_so_it_needs_its_own():
    """What made every legacy click fail: the sha256/Encrypt Key check cannot pass a sha1/token signature."""
    with pytest.raises(Rejected) as caught:
        authenticate(BODY, headers(BODY), SECRETS, now=NOW, window=300)
    assert caught.value.reason == "signature mismatch"


@pytest.mark.parametrize(("change", "reason"), [
    ({"token": "wrong"}, "legacy card signature mismatch"),
    ({"body": BODY + b" "}, "legacy card signature mismatch"),
    ({"ts": str(NOW - 3600)}, "timestamp outside the replay window"),
    ({"ts": "17e8"}, "timestamp is not a number of seconds"),
    ({"nonce": ""}, "incomplete signature headers"),
])
def test_a_legacy_callback_signed_wrongly_or_late_is_refused(change, reason):
    body = change.get("body", BODY)
    signed = headers(BODY, ts=change.get("ts", str(NOW)), nonce=change.get("nonce", "n"),
                     token=change.get("token", SAMPLE_TOKEN))
    with pytest.raises(Rejected) as caught:
        authenticate_legacy_card(body, signed, SECRETS, now=NOW, window=300)
    assert (caught.value.status, caught.value.reason) == (401, reason)


def test_legacy_and_new_callbacks_are_told_apart():
    assert events.is_legacy_card(SAMPLE)
    assert not events.is_legacy_card(load_payload("card_action_trigger.json"))
    assert not events.is_legacy_card(load_payload("url_verification.json"))
    with pytest.raises(events.Malformed):
        events.parse_legacy_card(load_payload("card_action_trigger.json"))
    with pytest.raises(events.Malformed):
        events.parse_legacy_card({**SAMPLE, "open_id": 5})
