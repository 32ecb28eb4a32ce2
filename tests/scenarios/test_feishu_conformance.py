"""Feishu's message shapes through the whole bot: mentions anywhere, post messages, other types, the bot's menu,
1.0 card callbacks, and deliveries Feishu refuses after the assessment is saved. Built from the documented samples
(tests/payloads/README.md names each source)."""

from __future__ import annotations

import copy
import json
import re
import string

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.actions import OpenForm
from bot.assessment import Assessment, Conclusion
from bot.commands.base import Request
from bot.commands.todo import inbox
from bot.feishu.client import FeishuError
from bot.feishu.security import legacy_card_signature
from bot.jobs.form import refused_form_card
from cards.confirmation import saved_card
from cards.notice import group_notice_card, text_only_card
from cards.schedule import not_a_schedule_card
from tests.support.ids import ADMIN, AID, ALICE, BOB, PAYLOADS

SUCCESS = (200, {"code": 0, "msg": "success", "data": {}})
PLACEHOLDER = re.compile(r"@_user_\d")


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"assessbot_admins": (ADMIN,)})


def sample(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def person(n: int, open_id: str, name: str) -> dict:
    """One entry of `message.mentions`, as im.message.receive_v1 lists it."""
    return {"key": f"@_user_{n}", "id": {"open_id": open_id, "union_id": "on_x", "user_id": "u"}, "name": name,
            "tenant_key": "736588c9260f175e"}


def bot(ctx, n: int) -> dict:
    return person(n, ctx.settings.feishu_bot_open_id, "面评助手")




@pytest.mark.parametrize(("text", "bot_key"), [
    (f"@_user_1 /assess {AID} pass comment=与@_user_2一起面试", 1),  # first
    (f"/assess {AID} @_user_2 pass comment=与@_user_1一起面试", 2),  # second, in the middle
    (f"/assess {AID} pass comment=与@_user_1一起面试 @_user_2", 2),  # last
    (f"/assess {AID} pass comment=与@_user_1一起面试\n@_user_2", 2),  # last, on its own line
])
def test_the_bot_is_found_wherever_it_is_mentioned_and_the_others_are_named(push, feishu, ctx, text, bot_key):
    other = 3 - bot_key
    push.message(text, chat_type="group", mentions=[bot(ctx, bot_key), person(other, BOB, "Bob")],
                 message_id="om_g1")
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2, "content": "与@Bob一起面试"}]


def test_with_twelve_mentions_owner_resolves_exactly_and_user_1_never_matches_user_1x(push, feishu, ctx):
    people = [bot(ctx, 1)] + [person(n, f"ou_p{n:02d}" + "0" * 29, f"P{n}") for n in range(2, 13)]
    text = f"@_user_1 /assess {AID} pass owner=@_user_11 comment=「@_user_10 和 @_user_12 旁听，@_user_1」"
    push.message(text, chat_type="group", mentions=people, sender=ADMIN, message_id="om_g2")
    ctx.runner.drain()
    assert ctx.store.known(AID).owner == "ou_p11" + "0" * 29
    assert feishu.patches() == [{"conclusion": 2, "content": "@P10 和 @P12 旁听，"}]


def post_payload(push, post: dict, **kwargs) -> dict:
    payload = push.message_payload("", message_type="post", **kwargs)
    payload["event"]["message"]["content"] = json.dumps(post, ensure_ascii=False)
    return payload


@pytest.mark.parametrize("chat_type", ["group", "p2p", "topic_group"])
def test_a_command_sent_as_a_post_works_like_text(push, feishu, ctx, chat_type):
    """A bold word and a line break make the client send `post`; `at` elements become mentions."""
    post = {"zh_cn": {"title": "", "content": [
        [{"tag": "at", "user_id": "@_user_1", "user_name": "面评助手"}, {"tag": "text", "text": f" /assess {AID} "},
         {"tag": "text", "text": "pass", "style": ["bold"]}],
        [{"tag": "text", "text": "comment=思路清晰"}, {"tag": "emotion", "emoji_type": "SMILE"}]]}}
    push.post(post_payload(push, post, chat_type=chat_type, mentions=[bot(ctx, 1)], message_id="om_post"))
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2, "content": "思路清晰"}]


@pytest.mark.parametrize("kind", ["image", "file", "sticker", "audio", "media"])
def test_other_message_types_get_a_short_answer_in_private_and_silence_in_groups(push, feishu, ctx, kind):
    contents = sample("message_contents.json")
    payload = push.message_payload("", message_type=kind, message_id="om_img")
    payload["event"]["message"]["content"] = json.dumps(contents[kind], ensure_ascii=False)
    push.post(payload)
    group = push.message_payload("", message_type=kind, chat_type="group", message_id="om_img_g")
    group["event"]["message"]["content"] = json.dumps(contents[kind], ensure_ascii=False)
    push.post(group)
    ctx.runner.drain()
    # a file that is not a schedule (the sample's test.txt) is told what the bot does with files
    answer = not_a_schedule_card(contents[kind]["file_name"]) if kind == "file" else text_only_card()
    assert [(s["url"], s["card"]) for s in feishu.sent_cards()] == [("/open-apis/im/v1/messages/om_img/reply",
                                                                           answer)]


def menu_payload(ctx, key: str, operator: str = ALICE) -> dict:
    payload = copy.deepcopy(sample("application_bot_menu_v6.json"))
    payload["header"]["token"] = ctx.settings.feishu_verification_token
    payload["event"]["event_key"] = key
    payload["event"]["operator"]["operator_id"]["open_id"] = operator
    return payload


def test_the_menus_todo_item_sends_the_inbox_privately_once(push, feishu, ctx):
    payload = menu_payload(ctx, "todo")
    assert push.post(payload).status_code == 200
    push.post(payload)  # Feishu re-pushes an event it did not see answered
    ctx.runner.drain()
    event_id = payload["header"]["event_id"]
    assert [(s["url"], s["uuid"], s["card"]) for s in feishu.sent_cards()] == [
        ("/open-apis/im/v1/messages?receive_id_type=open_id", f"menu:{event_id}:t", inbox(Request(ctx, ALICE, "x")))]
    assert json.loads(feishu.calls("POST", "receive_id_type")[0].request.body)["receive_id"] == ALICE


def legacy_post(push, ctx, value: dict) -> object:
    payload = copy.deepcopy(sample("card_action_trigger_v1.json"))
    payload.update(open_id=ALICE, open_message_id="om_card1")
    payload["action"].update(value=value, form_value={})
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts, nonce = str(int(ctx.clock())), "legacynonce"
    headers = {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
               "X-Lark-Signature": legacy_card_signature(ts, nonce, ctx.settings.feishu_verification_token, body)}
    return push.post(body, encrypted=False, signed=False, headers=headers)


def test_a_legacy_card_callback_gets_the_same_answer_in_the_1_0_shape(push, ctx):
    """1.0 answers put the card's own fields at top level beside the toast."""
    new = push.card(OpenForm(AID).encode()).get_json()
    old = legacy_post(push, ctx, OpenForm(AID).encode())
    assert old.status_code == 200
    assert set(new) == {"card"} and "card" not in old.get_json()
    nonce = re.compile(r'"(nonce|n|sig)": "[0-9a-f]+"')  # each form carries its own
    assert nonce.sub("", json.dumps(old.get_json())) == nonce.sub("", json.dumps(new["card"]["data"]))
    stale = legacy_post(push, ctx, {"v": 0, "t": "nonsense"}).get_json()
    assert set(stale) == {"toast"} and stale["toast"]["type"] in ("info", "error")


def test_a_legacy_callback_signed_wrongly_is_refused(push, ctx):
    payload = json.dumps(sample("card_action_trigger_v1.json")).encode()
    headers = {"X-Lark-Request-Timestamp": str(int(ctx.clock())), "X-Lark-Request-Nonce": "n",
               "X-Lark-Signature": legacy_card_signature(str(int(ctx.clock())), "n", "wrong token", payload)}
    assert push.post(payload, encrypted=False, signed=False, headers=headers).status_code == 401


@pytest.mark.parametrize(("code", "msg"), [
    (230025, "The message is too long"),
    (230099, "Failed to create card content, ext=ErrCode: 11310; ErrMsg: element exceeds the limit"),
    (300305, "card element count exceeds the limit"),
    (230011, "The message was withdrawn."),
])
def test_a_refused_confirmation_after_a_successful_patch_still_says_saved(push, feishu, ctx, code, msg):
    feishu.api.fault("reply", "error", status=400, code=code, msg=msg)
    push.message(f"/assess {AID} pass", message_id="om_c")
    ctx.runner.drain()
    refused = [c["body"] for c in feishu.api.calls("reply") if c["faults"]]
    assert feishu.patches() == [{"conclusion": 2}] and [b["msg_type"] for b in refused] == ["interactive"]
    short = saved_card(AID, Assessment(conclusion=Conclusion.PASS), edit_value=OpenForm(AID).encode())
    delivered = [(s["via"], s["uuid"], s["card"]) for s in feishu.sent_cards()]
    if code == 230011:  # the message asked in is gone: privately
        assert delivered[-1] == ("post", "om_c:s", short)
    else:  # the card was too big: the short one in its place
        assert delivered[-1] == ("reply", "om_c:s", short)
    assert [(e.action, e.result) for e in ctx.store.history(AID)] == [("write", "ok")]
    assert ctx.store.jobs_by_status() == {"done": 1}


def test_a_person_outside_the_apps_availability_is_not_told_not_saved(push, feishu, ctx):
    feishu.api.fault("send", "error", status=400, code=230013, msg="Bot has NO availability to this user.", count=5)
    push.message(f"@_user_1 /assess {AID} pass", chat_type="group", mentions=[bot(ctx, 1)], message_id="om_g3")
    ctx.runner.drain()
    assert [(e.action, e.result) for e in ctx.store.history(AID)] == [("write", "ok")]
    assert ctx.store.jobs_by_status() == {"done": 2}  # the write and the group notice
    assert [s["card"] for s in feishu.sent_cards() if s["via"] == "reply"] == [group_notice_card()]


def test_a_form_feishu_refuses_is_explained_where_it_was_asked(push, feishu, ctx):
    feishu.api.fault("send", "error", status=400, code=230013, msg="Bot has NO availability to this user.")
    push.message(f"@_user_1 /assess {AID}", chat_type="group", mentions=[bot(ctx, 1)], message_id="om_g4")
    ctx.runner.drain()
    [refused] = feishu.api.calls("send")
    told = refused_form_card(AID, "recipient", FeishuError(230013, "", refused["log_id"]))
    replies = sorted((s["uuid"], json.dumps(s["card"])) for s in feishu.sent_cards() if s["via"] == "reply")
    assert replies == sorted([("om_g4:n", json.dumps(group_notice_card())), ("om_g4:s", json.dumps(told))])
    assert ctx.store.jobs_by_status() == {"done": 2}


WORDS = st.text(alphabet=string.ascii_letters + "面评清晰", min_size=1, max_size=6)
NAMES = st.text(alphabet=string.ascii_letters + "@_张", min_size=0, max_size=10)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_placeholder_ever_reaches_a_patch_or_a_card(push, feishu, ctx, data):
    """Random mention sets, the bot anywhere (or absent in a private chat), placeholders in every free field."""
    count = data.draw(st.integers(1, 14))
    names = data.draw(st.lists(NAMES, min_size=count, max_size=count))
    bot_at = data.draw(st.integers(1, count))
    people = [bot(ctx, n) if n == bot_at else person(n, f"ou_q{n:02d}" + "0" * 29, names[n - 1])
              for n in range(1, count + 1)]
    listed = [f"@_user_{n}" for n in range(1, count + 1) if n != bot_at] + ["@_user_99"]  # one never listed
    free = st.lists(st.one_of(WORDS, st.sampled_from(listed)), min_size=1, max_size=6).map(" ".join)
    words = [f"/assess {AID}", "pass", f"comment=「{data.draw(free)}」", f"name=「{data.draw(free)}」",
             f"亮点=「{data.draw(free)}」", data.draw(st.sampled_from(["", "owner=" + listed[0], "oops=@_user_99"]))]
    words.insert(data.draw(st.integers(0, len(words))), f"@_user_{bot_at}")
    group = data.draw(st.booleans())
    before = len(feishu.mock.calls)
    push.message(" ".join(words), chat_type="group" if group else "p2p", mentions=people, sender=ADMIN)
    ctx.runner.drain()
    sent = [json.loads(c.request.body) for c in feishu.mock.calls[before:] if c.request.body]
    for body in sent:
        text = json.dumps(body, ensure_ascii=False) + json.dumps(json.loads(body.get("content") or "{}"),
                                                                 ensure_ascii=False)
        assert not PLACEHOLDER.search(text), text[:500]
    assert sent  # something was said or written each time
