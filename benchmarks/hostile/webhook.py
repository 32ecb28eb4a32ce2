"""POST /feishu/events: random and mutated bytes and JSON, signed and not, huge bodies, deep nesting, tampered
signatures and headers, and every field of each kind of valid event given the wrong type.

Only a signed push may write (its dedup record, its jobs); the answer is 200, 400, 401, 404 or 413, never 500."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator

from benchmarks.hostile import junk
from benchmarks.hostile.lab import CHAT, TOKEN, Lab, seal, signed
from benchmarks.hostile.run import Case
from bot.sandbox.push import card_action, message_event

NAME = "webhook"
SENDER = "ou_hostile000000000000000000000000"
COMMANDS = ["/assess 7412358746023518273 pass coding=4", "/todo", "/help", "/panel", "/whoami", "/history", "/assign",
            "/assess", "/assess 1 2 3", "import", "/assess 7412358746023518273 fail notes=" + "长" * 3000]


def _templates(rng: random.Random) -> list[dict]:
    """One valid payload of each kind the bot acts on, with fresh ids."""
    eid = uuid.UUID(int=rng.getrandbits(128)).hex
    message = message_event(rng.choice(COMMANDS), token=TOKEN, sender=SENDER, chat_id=CHAT, event_id=eid,
                            message_id=f"om_{eid}")
    group = message_event("@_user_1 /todo", token=TOKEN, sender=SENDER, chat_id="oc_group", chat_type="group",
                          event_id=eid, message_id=f"om_{eid}",
                          mentions=[{"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "bot"}])
    file = message_event("", token=TOKEN, sender=SENDER, chat_id=CHAT, event_id=eid, message_id=f"om_{eid}",
                         message_type="file", content={"file_key": "file_v3_x", "file_name": "面试.csv"})
    post = message_event("", token=TOKEN, sender=SENDER, chat_id=CHAT, event_id=eid, message_id=f"om_{eid}",
                         message_type="post", content={"title": "t", "content": [[{"tag": "text", "text": "/todo"},
                                                                                  {"tag": "at", "user_id": "x"}]]})
    card = card_action({"action": "todo"}, {"coding": "4"}, token=TOKEN, operator=SENDER, message_id=f"om_{eid}",
                       chat_id=CHAT, callback_token=f"c-{eid}", event_id=eid)
    header = {"event_id": eid, "token": TOKEN, "create_time": "1608725989000", "tenant_key": "t", "app_id": "cli"}
    menu = {"schema": "2.0", "header": {**header, "event_type": "application.bot.menu_v6"},
            "event": {"operator": {"operator_name": "x", "operator_id": {"open_id": SENDER}}, "event_key": "todo",
                      "timestamp": "1669364458"}}
    table = {"schema": "2.0", "header": {**header, "event_type": "drive.file.bitable_record_changed_v1"},
             "event": {"file_type": "bitable", "file_token": "bascnHostile", "table_id": "tblHostile", "revision": 1,
                       "action_list": [{"record_id": "rec1", "action": "record_edited"}]}}
    legacy = {"open_id": SENDER, "user_id": "u", "open_message_id": f"om_{eid}", "open_chat_id": CHAT,
              "tenant_key": "t", "token": f"c-{eid}", "action": {"value": {"action": "todo"}, "tag": "button"}}
    challenge = {"type": "url_verification", "token": TOKEN, "challenge": eid}
    return [message, group, file, post, card, menu, table, legacy, challenge]


def cases(rng: random.Random, count: int) -> Iterator[Case]:
    """`count` requests; each Case's data is (body, how to sign it, extra headers)."""
    kinds = ["garbage", "json", "signed garbage", "signed json", "wrong types", "wrong types", "wrong types",
             "many wrong types", "tampered", "bad headers", "deep nesting", "huge", "valid", "plain signed",
             "stale"]
    for n in range(count):
        kind = kinds[n % len(kinds)] if n < len(kinds) else rng.choice(kinds)
        if n == count - 1 and count > 1:
            kind = "huge"  # one at the limit at least, for the largest input's memory
        body, sign, headers = _request(rng, kind)
        yield Case(kind, (body, sign, headers), len(body))


def _request(rng: random.Random, kind: str) -> tuple[bytes, str, dict]:
    if kind == "garbage":
        return junk.garbage(rng), "no", _junk_headers(rng)
    if kind == "json":
        return junk.dumps(junk.value(rng)), "no", {}
    if kind == "signed garbage":
        return junk.garbage(rng), "yes", {}
    if kind == "signed json":
        return seal(junk.dumps(junk.value(rng))), "yes", {}
    if kind in ("wrong types", "many wrong types", "valid", "stale", "plain signed"):
        payload = rng.choice(_templates(rng))
        if kind != "valid":
            payload = junk.mutate(rng, payload, 1 if kind != "many wrong types" else rng.randint(2, 12))
        body = junk.dumps(payload)
        if kind == "plain signed":
            return body, "yes", {}
        return seal(body), "stale" if kind == "stale" else "yes", {}
    if kind == "tampered":
        body = seal(junk.dumps(rng.choice(_templates(rng))))
        return junk.flip(rng, body), "before flip", {}
    if kind == "bad headers":
        return seal(junk.dumps(rng.choice(_templates(rng)))), "no", _junk_headers(rng, always=True)
    if kind == "deep nesting":
        nested = junk.nested(rng, rng.choice([100, 1000, 10_000, 100_000]))
        body = rng.choice([nested.encode(), seal(nested.encode())])
        return body, rng.choice(["yes", "no"]), {}
    size = rng.choice([1024 * 1024 - 1024, 1024 * 1024 + 1, 3 * 1024 * 1024])  # the limit is 1 MB
    filler = {"header": {"token": TOKEN, "event_type": "im.message.receive_v1"}, "schema": "2.0",
              "event": {"message": {"content": "x" * size}}}
    return rng.choice([seal(junk.dumps(filler))[:size], rng.randbytes(size)]), rng.choice(["yes", "no"]), {}


def _junk_headers(rng: random.Random, always: bool = False) -> dict:
    if not always and rng.random() < 0.5:
        return {}
    names = ["X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature"]
    values = ["", "0", "-1", "9" * 400, "1e9", " 1795600000", "١٢٣", "nan", junk.text(rng, 80)]
    found = {}
    for name in names:
        if rng.random() < 0.8:
            value = rng.choice(values)
            found[name] = "".join(c for c in value if 0x20 <= ord(c) < 0x7F or 0xA0 <= ord(c) <= 0xFF)
    return found


def send(lab: Lab, case: Case) -> str:
    body, sign, headers = case.data
    if sign == "yes":
        sent = signed(body)
    elif sign == "stale":
        sent = signed(body, now=1_000_000_000)
    elif sign == "before flip":
        sent = signed(seal(b"{}"))  # a valid signature of another body
    else:
        sent = {}
    sent.update(headers)
    return str(lab.post("/feishu/events", body, sent))


def may_write(case: Case, outcome: str, tables: Counter[str]) -> bool:
    """Only a push signed now, and answered 200, may write."""
    return case.data[1] == "yes" and outcome == "200"


def good(lab: Lab) -> bool:
    """A signed /assess is answered 200 and leaves its write job."""
    before = sum(lab.ctx.store.jobs_by_status().values())
    payload = message_event("/assess 7412358746023518999 pass coding=4", token=TOKEN, sender=SENDER, chat_id=CHAT)
    body = seal(payload)
    status = lab.post("/feishu/events", body, signed(body))
    return status == 200 and sum(lab.ctx.store.jobs_by_status().values()) > before
