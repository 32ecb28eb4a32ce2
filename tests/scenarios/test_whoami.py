"""/whoami: a person learns their open_id and whether they are an admin, in a private answer."""

from __future__ import annotations

import pytest

from bot.commands.registry import parse
from cards.whoami import whoami_card
from tests.support.cards import shown
from tests.support.ids import ADMIN, ALICE


def test_the_card_shows_the_open_id_and_the_role_in_both_languages():
    card = whoami_card("ou_x", admin=False)
    elements = card["body"]["elements"]
    assert card["header"]["title"]["i18n_content"] == {"zh_cn": "你的身份", "en_us": "Who you are"}
    assert elements[1] == {"tag": "div", "text": {"tag": "plain_text", "content": "ou_x"}}
    assert elements[2]["text"]["i18n_content"] == {"zh_cn": "你不是管理员。", "en_us": "You are not an administrator."}
    assert whoami_card("ou_x", admin=True)["body"]["elements"][2]["text"]["i18n_content"]["en_us"] == (
        "You are an administrator (listed in ASSESSBOT_ADMINS).")


@pytest.mark.parametrize("text", ["/whoami", "whoami", "我是谁", "/WHOAMI"])
def test_whoami_answers_to_its_words(text):
    assert type(parse(text)).__name__ == "Whoami"


@pytest.mark.parametrize(("sender", "admin"), [(ALICE, False), (ADMIN, True)])
def test_whoami_replies_with_the_senders_open_id_and_role(push, feishu, ctx, sender, admin):
    ctx.settings = ctx.settings.model_copy(update={"assessbot_admins": (ADMIN,)})
    push.message("/whoami", sender=sender, message_id="om_who")
    ctx.runner.drain()
    [sent] = feishu.sent_cards()
    assert sent["url"] == "/open-apis/im/v1/messages/om_who/reply"
    role = "You are an administrator (listed in ASSESSBOT_ADMINS)." if admin else "You are not an administrator."
    assert shown(sent["card"]).splitlines()[2:5] == ["Your open_id:", sender, role]
