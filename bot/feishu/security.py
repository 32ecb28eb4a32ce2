"""Authenticate Feishu pushes: signature, replay window, verification token, then decrypt (pure; clock injected).

Order matters: a pushed event is signed over its raw bytes, so the signature and the timestamp window are
checked before anything is decrypted or parsed. The only request Feishu sends unsigned is the URL
verification challenge; it is accepted only when it decrypts to `type: url_verification` with the right
token, and it has no effect beyond echoing the challenge, so a body can never talk its way past the
signature check on the event path.

Replays. Feishu re-pushes a failed event after 15 s, 5 min, 1 h and 6 h (about 7.1 h in all). Its
documentation does not say whether `X-Lark-Request-Timestamp` is refreshed per attempt; one public
integration states that each delivery is signed at send time, but we could not confirm it against a
tenant. If it is not refreshed, a narrow window would reject the legitimate 1 h and 6 h re-pushes, so the
default window is 8 h (ASSESSBOT_REPLAY_WINDOW_SECONDS; lower it to minutes once a captured re-push shows
a fresh timestamp). Safety
does not rest on the window alone: every accepted event is recorded by `event_id` and `message_id`
(card actions by `event_id`) for `ASSESSBOT_DEDUP_TTL_SECONDS` (default 7 days, never under 24 h), far
longer than the window. A replayed request is therefore either outside the window (401) or a known
duplicate (200, no effect).

Rotation. While an Encrypt Key or Verification Token is being changed in the developer console, the old
value may be given as the previous one: a push is accepted with either, and `Authentic.key` says whether a
previous secret was needed, so the caller can log it and the operator can tell when to drop the old value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

HEADER_TIMESTAMP = "X-Lark-Request-Timestamp"
HEADER_NONCE = "X-Lark-Request-Nonce"
HEADER_SIGNATURE = "X-Lark-Signature"
MAX_HEADER = 256  # longer timestamp, nonce or signature values are not Feishu's


class Rejected(Exception):
    """The request is refused; `status` is 400 (malformed) or 401 (not from Feishu)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Secrets:
    """The two secrets Feishu shares with the app, and their previous values while they are being changed."""

    encrypt_key: str
    verification_token: str
    previous_encrypt_key: str = ""
    previous_verification_token: str = ""

    def __post_init__(self) -> None:
        if not self.encrypt_key or not self.verification_token:
            raise ValueError("both the Encrypt Key and the Verification Token are required")

    def encrypt_keys(self) -> dict[str, str]:
        """The Encrypt Keys to try, current first: {"current": …, "previous": …} (previous only when set)."""
        return {"current": self.encrypt_key, **({"previous": self.previous_encrypt_key}
                                                 if self.previous_encrypt_key else {})}

    def verification_tokens(self) -> dict[str, str]:
        """The Verification Tokens to accept, current first, as `encrypt_keys`."""
        return {"current": self.verification_token, **({"previous": self.previous_verification_token}
                                                       if self.previous_verification_token else {})}


class Authentic(dict):
    """The decrypted payload of an authentic push; `key` is "previous" when a previous secret accepted it."""

    key: str = "current"


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """Feishu's signature: sha256(timestamp + nonce + encrypt_key + raw body), lowercase hex."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


def signature_is_valid(timestamp: str, nonce: str, encrypt_key: str, body: bytes, given: str) -> bool:
    """Constant-time check of a signature header (compared as bytes, so any header text is safe)."""
    expected = signature(timestamp, nonce, encrypt_key, body).encode("ascii")
    return hmac.compare_digest(expected, given.encode("utf-8", "surrogateescape"))


def token_is_valid(expected: str, given: object) -> bool:
    """Constant-time check of the verification token carried in the payload."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogateescape"))


def authenticate(body: bytes, headers: Mapping[str, str], secrets: Secrets, *, now: float,
                 window: int) -> Authentic:
    """The decrypted payload of an authentic request (current secrets, then previous ones), or Rejected."""
    values = [headers.get(h) for h in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)]
    if all(v is None for v in values):
        return _challenge(body, secrets)
    timestamp, nonce, given = (v or "" for v in values)
    if not (timestamp and nonce and given) or max(map(len, (timestamp, nonce, given))) > MAX_HEADER:
        raise Rejected(401, "incomplete signature headers")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Rejected(401, "timestamp is not a number of seconds")
    if abs(now - int(timestamp)) > window:
        raise Rejected(401, "timestamp outside the replay window")
    keys = secrets.encrypt_keys()
    # every key is checked, so the time taken does not tell which one matched
    signed_with = [name for name, key in keys.items() if signature_is_valid(timestamp, nonce, key, body, given)]
    if not signed_with:
        raise Rejected(401, "signature mismatch")
    payload = decrypt(body, keys[signed_with[0]])
    return _authentic(payload, signed_with[0], _matching_token(secrets, _token(payload)))


def _challenge(body: bytes, secrets: Secrets) -> Authentic:
    payload, sealed_with = _open_challenge(body, secrets.encrypt_keys())
    if payload.get("type") != "url_verification":
        raise Rejected(401, "unsigned request that is not a URL verification")
    matched = _matching_token(secrets, payload.get("token"))
    if not isinstance(payload.get("challenge"), str):
        raise Rejected(400, "challenge is not a string")
    return _authentic(payload, sealed_with, matched)


def _open_challenge(body: bytes, keys: dict[str, str]) -> tuple[dict, str]:
    """Decrypt with the first key that works (an unsigned body does not say which it was sealed with)."""
    *first, (last_name, last_key) = keys.items()
    for name, key in first:
        with contextlib.suppress(Rejected):
            return decrypt(body, key, status=401), name
    return decrypt(body, last_key, status=401), last_name


def _matching_token(secrets: Secrets, given: object) -> str:
    """Which Verification Token the payload carries ("current" or "previous"); Rejected if neither."""
    matched = [name for name, token in secrets.verification_tokens().items() if token_is_valid(token, given)]
    if not matched:
        raise Rejected(401, "verification token mismatch")
    return matched[0]


def _authentic(payload: dict, key: str, token: str) -> Authentic:
    accepted = Authentic(payload)
    accepted.key = "previous" if "previous" in (key, token) else "current"
    return accepted


def _token(payload: dict) -> object:
    header = payload.get("header")
    if isinstance(header, dict) and "token" in header:
        return header["token"]
    return payload.get("token")


def decrypt(body: bytes, encrypt_key: str, status: int = 400) -> dict:
    """Parse the body and, when it is `{"encrypt": ...}`, decrypt it with the SDK's AES-256-CBC cipher."""
    outer = json_object(body, status)
    sealed = outer.get("encrypt")
    if sealed is None:
        return outer
    if not isinstance(sealed, str):
        raise Rejected(status, "encrypt is not a string")
    # Imported here: lark_oapi takes seconds to import, and pure signature checks do not need it.
    from lark_oapi.core.utils.decryptor import AESCipher

    try:
        plain = AESCipher(encrypt_key).decrypt(_b64(sealed, status))
    except ValueError:
        raise Rejected(status, "body does not decrypt with the Encrypt Key") from None
    return json_object(plain, status)


def _b64(text: str, status: int) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Rejected(status, "encrypt is not base64") from None


def json_object(raw: bytes | str, status: int = 400) -> dict:
    """A JSON object of Unicode text, or Rejected: JSON's `\\ud800` escapes decode to lone surrogates, which no
    database, encoder or comparison downstream can take."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Rejected(status, "body is not JSON") from None
    if not isinstance(value, dict):
        raise Rejected(status, "body is not a JSON object")
    if not is_unicode(value, raw):
        raise Rejected(status, "body holds a lone surrogate, which is not text")
    return value


def is_unicode(value: object, raw: bytes | str | None = None) -> bool:
    """Whether every string in a parsed JSON value (keys too) is Unicode text, free of lone surrogates. With the
    `raw` JSON it came from, only a text with a `\\u` escape of a surrogate is walked."""
    if raw is not None:
        text = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        if b"\\ud" not in text and b"\\uD" not in text:
            return True
    stack = [value]
    while stack:  # not recursive: the value may be nested as deep as the JSON parser allows
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def encrypt(payload: dict | bytes, encrypt_key: str, iv: bytes | None = None) -> bytes:
    """A push body as Feishu seals it: AES-256-CBC, key sha256(Encrypt Key), PKCS7, {"encrypt": base64(iv + data)}."""
    # Imported here, as in decrypt(): pycryptodome comes with lark-oapi, and only pushes and checks need it.
    from Crypto.Cipher import AES
    from Crypto.Random import get_random_bytes

    plain = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    iv = iv or get_random_bytes(16)
    pad = 16 - len(plain) % 16
    cipher = AES.new(hashlib.sha256(encrypt_key.encode()).digest(), AES.MODE_CBC, iv)
    sealed = cipher.encrypt(plain + bytes([pad]) * pad)
    return json.dumps({"encrypt": base64.b64encode(iv + sealed).decode()}).encode()


def legacy_card_signature(timestamp: str, nonce: str, verification_token: str, body: bytes) -> str:
    """A 1.0 card callback's signature: sha1(timestamp + nonce + Verification Token + raw body), hex.

    https://open.feishu.cn/document/common-capabilities/message-card/add-card-interaction/message-card-security-verification
    """
    return hashlib.sha1((timestamp + nonce + verification_token).encode("utf-8") + body).hexdigest()


def authenticate_legacy_card(body: bytes, headers: Mapping[str, str], secrets: Secrets, *, now: float,
                             window: int) -> dict:
    """Return the payload of an authentic 1.0 card callback, or raise Rejected.

    Signed with the Verification Token (the Encrypt Key is not used for signing here); the payload's own
    `token` is the card's update token, so it is not compared with anything.
    """
    values = [headers.get(h) for h in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)]
    timestamp, nonce, given = (v or "" for v in values)
    if not (timestamp and nonce and given) or max(map(len, (timestamp, nonce, given))) > MAX_HEADER:
        raise Rejected(401, "incomplete signature headers")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Rejected(401, "timestamp is not a number of seconds")
    if abs(now - int(timestamp)) > window:
        raise Rejected(401, "timestamp outside the replay window")
    expected = legacy_card_signature(timestamp, nonce, secrets.verification_token, body).encode("ascii")
    if not hmac.compare_digest(expected, given.encode("utf-8", "surrogateescape")):
        raise Rejected(401, "legacy card signature mismatch")
    return decrypt(body, secrets.encrypt_key)
