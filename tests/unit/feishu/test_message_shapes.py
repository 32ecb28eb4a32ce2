"""Every documented message shape parses into the same MessageReceived: text, post, files, odd fields."""

from __future__ import annotations

import copy
import json

import pytest

from bot.feishu import events
from bot.feishu.events import Mention, MessageReceived
from tests.support.ids import load_payload

CONTENTS = load_payload("message_contents.json")
TOM = Mention(key="@_user_1", open_id="ou_84aad35d084aa403a838cf73ee18467", name="Tom")


def received(message_type: str, content: dict | str, **message: object) -> dict:
    """The documented receive_v1 sample carrying another message type and content."""
    payload = copy.deepcopy(load_payload("im_message_receive_v1.json"))
    payload["event"]["message"].update(message_type=message_type, content=content if isinstance(content, str)
                                       else json.dumps(content, ensure_ascii=False), **message)
    return payload


def parse(payload: dict) -> MessageReceived:
    event = events.parse(payload)
    assert isinstance(event, MessageReceived)
    return event


def test_the_documented_text_message_parses():
    event = parse(load_payload("im_message_receive_v1.json"))
    assert (event.message_type, event.text, event.mentions, event.chat_type) == ("text", "@_user_1 hello", (TOM,),
                                                                                  "group")
    assert event.create_time == "1609073151345" and event.in_group and not event.from_bot


def test_the_documented_post_reads_as_lines_of_text_with_the_mention_placeholder():
    """text + a (its text) + at (its @_user_N) on one line; images, video, emotions and rules add nothing."""
    event = parse(received("post", CONTENTS["post"]))
    assert event.message_type == "post" and event.title == "我是一个标题"
    assert event.text == "第一行 :超链接@_user_1\n\n第二行:文本测试\n\n\n\n\nfunc main() int64 {\n    return 0\n}"
    assert event.mentions == (TOM,)


def test_a_post_under_a_locale_key_reads_the_same_way():
    event = parse(received("post", CONTENTS["post_locale"], mentions=[]))
    assert event.title == "我是一个标题"
    assert event.text == "第一行 :超链接@tom\n\n第二行:文本测试"


def test_a_command_typed_with_formatting_is_the_same_text_as_typed_plainly():
    """A bold word and a line break make the client send a post; the command text comes out unchanged."""
    post = {"title": "", "content": [[{"tag": "at", "user_id": "@_user_1", "user_name": "Bot"},
                                      {"tag": "text", "text": " /assess 123 "},
                                      {"tag": "text", "text": "pass", "style": ["bold"]}],
                                     [{"tag": "text", "text": "comment=好 "}, {"tag": "emotion", "emoji_type": "SMILE"},
                                      {"tag": "a", "href": "https://example.com/x", "text": ""}]]}
    text = parse(received("text", {"text": "@_user_1 /assess 123 pass\ncomment=好 https://example.com/x"}))
    assert parse(received("post", post)).text == text.text


@pytest.mark.parametrize("kind", ["image", "file", "audio", "media", "sticker"])
def test_other_message_types_parse_with_no_text(kind: str):
    event = parse(received(kind, CONTENTS[kind], mentions=[]))
    assert (event.message_type, event.text, event.mentions) == (kind, None, ())


def test_an_unknown_message_type_with_any_content_parses_too():
    assert parse(received("merge_forward", {"content": "Merged and Forwarded Message"})).text is None


@pytest.mark.parametrize(("given", "kept"), [("1609073151345", "1609073151345"), (1609073151345, "1609073151345"),
                                             (None, "")])
def test_create_time_may_be_a_string_or_a_number(given: object, kept: str):
    assert parse(received("text", {"text": "hi"}, create_time=given)).create_time == kept


@pytest.mark.parametrize(("chat_type", "in_group"), [("p2p", False), ("group", True), ("topic_group", True)])
def test_chat_types_include_topic_groups(chat_type: str, in_group: bool):
    assert parse(received("text", {"text": "hi"}, chat_type=chat_type)).in_group is in_group


@pytest.mark.parametrize(("sender_type", "from_bot"), [("user", False), ("app", True), ("bot", True)])
def test_messages_from_other_bots_are_recognised(sender_type: str, from_bot: bool):
    payload = received("text", {"text": "hi"})
    payload["event"]["sender"]["sender_type"] = sender_type
    assert parse(payload).from_bot is from_bot


def test_the_mentioned_type_is_kept_when_feishu_sends_it():
    payload = received("text", {"text": "@_user_1 hi"})
    payload["event"]["message"]["mentions"][0]["mentioned_type"] = "bot"
    assert parse(payload).mentions[0].mentioned_type == "bot"


@pytest.mark.parametrize(("kind", "content"), [
    ("text", "not json"), ("text", "[1]"), ("text", '{"text": 5}'), ("post", "{}"), ("post", '{"content": "x"}'),
    ("post", "not json"),
])
def test_misshapen_text_and_post_contents_are_malformed(kind: str, content: str):
    with pytest.raises(events.Malformed):
        events.parse(received(kind, content))


def test_odd_post_elements_are_skipped_not_fatal():
    post = {"content": [[{"tag": "text", "text": 5}, "x", {"tag": "at"}, {"tag": "a", "href": "h"}], "row", [],
                        [{"tag": "text", "text": "end"}]]}
    assert parse(received("post", post)).text == "h\n\n\nend"
