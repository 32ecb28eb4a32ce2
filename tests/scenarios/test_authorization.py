"""Who may change which assessment: the matrix, typed and clicked, with every denial audited."""

from __future__ import annotations

import itertools

import pytest

from bot import auth
from tests.support.ids import ADMIN, make_settings

USERS = [f"ou_user{n}{'0' * 27}" for n in range(5)]
OUTSIDER = "ou_outsider" + "0" * 24
ASSESSMENTS = [f"69308152727901143{n:02d}" for n in range(10)]
VALID = {"conclusion": "2", "dim_coding": "4", "dim_design": "3"}


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,), assessbot_allowed_users=(*USERS, ADMIN))


def owner_of(aid: str) -> str:
    return USERS[ASSESSMENTS.index(aid) % len(USERS)]


def expected(actor: str, aid: str) -> bool:
    return actor == ADMIN or actor == owner_of(aid)


def test_the_authorization_matrix_is_right_for_typed_and_clicked_writes(push, feishu, ctx):
    for aid in ASSESSMENTS:
        ctx.store.set_owner(aid, owner_of(aid))
    wrong, denials = [], 0
    for n, (actor, aid, via) in enumerate(itertools.product([*USERS, ADMIN, OUTSIDER], ASSESSMENTS,
                                                            ("typed", "clicked"))):
        before = len(feishu.patches())
        if via == "typed":
            push.message(f"/assess {aid} pass comment=n{n}", sender=actor)  # each write changes something
        else:
            value = auth.form_value(ctx.settings, aid, actor, f"nonce{n:08d}")
            push.card(value, {**VALID, "content": f"n{n}"}, operator=actor).close()
        ctx.runner.drain()
        wrote = len(feishu.patches()) > before
        allowed = expected(actor, aid) and actor != OUTSIDER
        denials += not allowed
        if wrote != allowed:
            wrong.append((actor, aid, via, wrote))
    assert wrong == []
    audited = [e for e in ctx.store.history() if e.result == "denied"]
    assert len(audited) == denials == 7 * 10 * 2 - 2 * (10 + 10)
    assert {e.detail["via"] for e in audited} == {"message", "card"}


def test_the_first_writer_owns_an_assessment_and_an_admin_can_hand_it_over(push, feishu, ctx):
    aid, alice, bob = ASSESSMENTS[0], USERS[0], USERS[1]
    push.message(f"/assess {aid} pass", sender=alice)
    push.message(f"/assess {aid} fail", sender=bob)
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}]
    mention = [{"key": "@_user_2", "id": {"open_id": bob}, "name": "Bob"}]
    push.message(f"/assess {aid} owner=@_user_2", sender=alice, mentions=mention)
    push.message(f"/assess {aid} owner=@_user_2", sender=ADMIN, mentions=mention)
    push.message(f"/assess {aid} fail", sender=bob)
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}, {"conclusion": 1}]
    actions = [(e.actor, e.action, e.result) for e in reversed(ctx.store.history(aid))]
    # a denial is recorded when the command arrives, a write when Feishu has answered
    assert actions == [(bob, "write", "denied"), (alice, "write", "ok"), (alice, "transfer", "denied"),
                       (ADMIN, "transfer", "ok"), (bob, "write", "ok")]


def test_history_is_shown_to_the_owner_and_admins_only(push, feishu, ctx):
    aid = ASSESSMENTS[0]
    push.message(f"/assess {aid} pass coding=4", sender=USERS[0])
    ctx.runner.drain()
    for actor in (USERS[0], USERS[1], ADMIN):
        push.message(f"/history {aid}", sender=actor, message_id=f"om_h_{actor[-30:]}")
    ctx.runner.drain()
    cards = {c["url"]: c["card"] for c in feishu.sent_cards()}
    denied = cards[f"/open-apis/im/v1/messages/om_h_{USERS[1][-30:]}/reply"]
    shown = cards[f"/open-apis/im/v1/messages/om_h_{USERS[0][-30:]}/reply"]
    assert "Conclusion: — → Pass" in str(shown) and "Coding: — → 4" in str(shown)
    assert "Conclusion" not in str(denied)
