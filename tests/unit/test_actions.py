"""Card values: each action as the cards of earlier releases carry it decodes the same; anything else is refused."""

from __future__ import annotations

import pytest

from bot import actions
from bot.actions import NotMine, Nudge, OpenComment, OpenForm, Share, ShowSummary, Snooze, SubmitForm


@pytest.mark.parametrize("value,action", [
    ({"a": "form", "id": "6930815272790114324"}, OpenForm("6930815272790114324")),
    ({"a": "form", "id": "6930815272790114324", "job": 7}, OpenForm("6930815272790114324", 7)),
    ({"a": "form", "id": "ab-1", "job": "7"}, OpenForm("ab-1")),  # a draft id that is no number: no draft
    ({"a": "submit", "id": "A", "for": "ou_a", "n": "9f", "sig": "00ff"}, SubmitForm("A", "ou_a", "9f", "00ff")),
    ({"a": "submit", "id": "A"}, SubmitForm("A")),  # incomplete: decoded, then refused as a form no longer valid
    ({"a": "later", "as": 12}, Snooze(12)),
    ({"a": "notmine", "as": 12}, NotMine(12)),
    ({"a": "nudge", "app": "app-1"}, Nudge("app-1")),
    ({"a": "share", "app": "app-1"}, Share("app-1")),
    ({"a": "summary", "app": "app-1", "p": 2}, ShowSummary("app-1", 2)),
    ({"a": "summary", "app": "app-1", "p": 0, "new": 1}, ShowSummary("app-1", 0, True)),
    ({"a": "summary", "app": "app-1"}, ShowSummary("app-1")),
    ({"a": "comment", "as": 3}, OpenComment(3)),
])
def test_a_value_of_todays_cards_decodes_to_its_action(value, action):
    assert actions.decode(value) == action


@pytest.mark.parametrize("action,value", [
    (OpenForm("A"), {"a": "form", "id": "A"}),
    (OpenForm("A", 7), {"a": "form", "id": "A", "job": 7}),
    (SubmitForm("A", "ou_a", "9f", "00ff"), {"a": "submit", "id": "A", "for": "ou_a", "n": "9f", "sig": "00ff"}),
    (Snooze(12), {"a": "later", "as": 12}),
    (ShowSummary("app-1", 2), {"a": "summary", "app": "app-1", "p": 2}),
    (ShowSummary("app-1", 0, True), {"a": "summary", "app": "app-1", "p": 0, "new": True}),
    (OpenComment(3), {"a": "comment", "as": 3}),
])
def test_an_action_encodes_to_the_short_keys_cards_carry(action, value):
    assert action.encode() == value and actions.decode(action.encode()) == action


@pytest.mark.parametrize("value", [{}, {"a": "frobnicate"}, {"a": 3}, "form", None, ["a"]])
def test_a_value_no_action_knows_is_stale(value):
    with pytest.raises(actions.Stale) as raised:
        actions.decode(value)
    assert not isinstance(raised.value, actions.Incomplete)


@pytest.mark.parametrize("value", [{"a": "form"}, {"a": "form", "id": ""}, {"a": "later"}, {"a": "later", "as": True},
                                   {"a": "later", "as": "12"}, {"a": "later", "as": -1}, {"a": "nudge", "app": 5}])
def test_a_known_action_with_a_field_missing_or_wrong_is_incomplete(value):
    with pytest.raises(actions.Incomplete):
        actions.decode(value)
