"""Mentions: the bot's own found anywhere, everyone else named, a person resolved, keys matched exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feishu import mentions
from bot.feishu.events import Mention
from tests.support.ids import BOT


def people(n: int, bot_at: int | None = None) -> tuple[Mention, ...]:
    """@_user_1 … @_user_n; the bot is the one at `bot_at` (1-based)."""
    return tuple(Mention(key=f"@_user_{i}", open_id=BOT if i == bot_at else f"ou_{i}", name=f"Person {i}")
                 for i in range(1, n + 1))


@pytest.mark.parametrize(("text", "bot_at", "left"), [
    ("@_user_1 /assess 123 owner=@_user_2", 1, "/assess 123 owner=@_user_2"),
    ("@_user_2 @_user_1 /assess 123", 1, "@_user_2 /assess 123"),
    ("/assess 123 pass @_user_1", 1, "/assess 123 pass"),
    ("@_user_2 /assess 123 comment=ask @_user_1 later", 1, "@_user_2 /assess 123 comment=ask later"),
    ("@_user_1\n/assess 123\ncomment=ok", 1, "/assess 123\ncomment=ok"),
    ("/assess 123\n@_user_3\ncomment=ok\n\nmore", 3, "/assess 123\ncomment=ok\n\nmore"),
    ("@_user_1 @_user_1 help", 1, "help"),
])
def test_the_bot_is_found_first_second_last_or_on_its_own_line(text: str, bot_at: int, left: str):
    addressed = mentions.strip_bot(text, people(3, bot_at), BOT)
    assert addressed == mentions.Addressed(left, tuple(m for m in people(3, bot_at) if m.open_id != BOT), True)


def test_the_bot_as_user_1_leaves_users_10_to_19_alone():
    cast = people(19, bot_at=1)
    text = "@_user_1 /assess 1 comment=" + " ".join(f"@_user_{i}" for i in range(10, 20))
    addressed = mentions.strip_bot(text, cast, BOT)
    assert addressed.text == "/assess 1 comment=" + " ".join(f"@_user_{i}" for i in range(10, 20))
    assert mentions.named(addressed.text, addressed.mentions) == \
        "/assess 1 comment=" + " ".join(f"@Person {i}" for i in range(10, 20))


def test_a_message_that_does_not_mention_the_bot_is_left_as_it_is():
    addressed = mentions.strip_bot("  @_user_1 hello ", people(1), BOT)
    assert addressed == mentions.Addressed("@_user_1 hello", people(1), False)


@pytest.mark.parametrize(("cast", "bot_name", "text", "left"), [
    ((Mention(key="@_user_1", open_id="ou_x", name="Tom"),
      Mention(key="@_user_2", open_id="ou_b", name="面评助手", mentioned_type="bot")), None,
     "@_user_1 @_user_2 help", "@_user_1 help"),
    ((Mention(key="@_user_1", open_id="ou_x", name="Tom"), Mention(key="@_user_2", open_id="ou_b", name="面评助手")),
     "面评助手", "@_user_1 help @_user_2", "@_user_1 help"),
    ((Mention(key="@_user_1", open_id="ou_b", name="Bot"), Mention(key="@_user_2", open_id="ou_x", name="Tom")), None,
     "@_user_1 help @_user_2", "help @_user_2"),
])
def test_without_the_bot_open_id_a_bot_mention_its_name_or_the_leading_mention_stands_in(cast, bot_name, text, left):
    assert mentions.strip_bot(text, cast, None, bot_name=bot_name).text == left


def test_free_text_names_everyone_and_leaks_no_placeholder():
    cast = (*people(2), Mention(key="@_user_3", open_id="ou_3", name=""),
            Mention(key="@_user_4", open_id="ou_4", name="@_user_9 trick"))
    text = "ask @_user_2 and @_user_1, cc @_user_3 @_user_4 @_user_7"
    assert mentions.named(text, cast) == "ask @Person 2 and @Person 1, cc @ @@user_9 trick @"


@pytest.mark.parametrize(("token", "expected"), [
    ("@_user_2", "ou_2"), (" @_user_12 ", "ou_12"), ("@_user_1", "ou_1"), ("@_user_20", None), ("@_user_2x", None),
    ("@Person 2", None), ("ou_2", None), ("", None),
])
def test_a_person_is_resolved_only_from_exactly_one_listed_placeholder(token: str, expected: str | None):
    assert mentions.open_id(token, people(19)) == expected


def test_placeholders_are_read_whole():
    assert mentions.placeholders("@_user_1@_user_12 x@_user_3") == ["@_user_1", "@_user_12", "@_user_3"]


WORDS = st.sampled_from(["/assess", "123", "pass", "comment=", "好", "ok", "owner=", "\n", "：", "x"])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_resolution_leaves_no_placeholder_and_puts_each_name_where_its_placeholder_was(data: st.DataObject):
    """Random mention sets (1–25 people, the bot anywhere or absent) at random positions in random text."""
    n = data.draw(st.integers(1, 25), label="people")
    bot_at = data.draw(st.one_of(st.none(), st.integers(1, n)), label="bot")
    cast = people(n, bot_at)
    parts = data.draw(st.lists(st.one_of(WORDS, st.integers(1, n).map(lambda i: i)), min_size=1, max_size=40))
    text = " ".join(p if isinstance(p, str) else f"@_user_{p}" for p in parts)
    addressed = mentions.strip_bot(text, cast, BOT)
    free = mentions.named(addressed.text, addressed.mentions)
    assert not mentions.placeholders(free)
    assert addressed.to_bot is (bot_at is not None)  # listed in `mentions`: Feishu says it was mentioned
    expected = " ".join(p if isinstance(p, str) else f"@Person {p}" for p in parts if p != bot_at)
    assert " ".join(free.split()) == " ".join(expected.split())
