"""Small truths: who submitted, words out of order, one did-you-mean, English descriptions, zh suggestions."""

from __future__ import annotations

from bot.assessment import RawFields
from cards.errors import problem_card
from cards.form import form_card
from tests.support.cards import shown
from tests.support.ids import AID
from tests.support.rubrics import SHIPPED


def _say(push, ctx, text: str, sender: str = "ou_alice000000000000000000000000000") -> dict:
    push.message(text, sender=sender)
    ctx.runner.drain()


def test_submitted_by_is_the_submitter_and_name_is_the_interviewer(push, feishu, ctx):
    _say(push, ctx, f'/assess {AID} pass name="Zhang Wei"')  # the contact API names the sender Alice Zhang
    card = feishu.sent_cards()[-1]["card"]
    assert feishu.patches()[-1]["username"] == "Zhang Wei"
    assert "Interviewer: Zhang Wei\nSubmitted by Alice Zhang" in shown(card)
    assert "面试官：Zhang Wei\n提交人：Alice Zhang" in shown(card, "zh_cn")


def test_words_out_of_order_are_recognised_and_explained(push, feishu, ctx):
    _say(push, ctx, f"/assess pass {AID}")
    card = feishu.sent_cards()[-1]["card"]
    assert ("The assessment id comes right after the command, before everything else. "
            f"Write: /assess {AID} pass") in shown(card)
    _say(push, ctx, f"/面评 通过 {AID} 编码能力=4")
    assert f"面评 ID 要紧跟在命令后面，其他内容写在 ID 之后。应写成：/面评 {AID} 通过 编码能力=4" in shown(
        feishu.sent_cards()[-1]["card"], "zh_cn")
    assert feishu.patches() == []


def test_a_did_you_mean_is_shown_once(push, feishu, ctx):
    for typo, hint in ((f"/assess {AID} pas", "pass"), (f"/asess {AID} pass", "/assess")):
        _say(push, ctx, typo)
        text = shown(feishu.sent_cards()[-1]["card"])
        assert text.count(hint) >= 1 and text.lower().count("did you mean") == 1, text


def test_the_problem_card_adds_a_suggestion_only_when_the_message_does_not_ask():
    asked = problem_card("结论“pas”无效。是否想输入 pass？", "'pas' is not a conclusion. Did you mean pass?",
                         suggestion="pass")
    assert shown(asked).count("Did you mean") == 1
    bare = problem_card("“编码”缺少值", "'编码' has no value", suggestion="编码=")
    assert "Did you mean: 编码=" in shown(bare)


def test_english_cards_show_english_descriptions_falling_back_to_chinese():
    card = form_card(AID, SHIPPED, RawFields(), submit_value={"do": "submit"})
    en, zh = shown(card), shown(card, "zh_cn")
    assert "Code quality, correctness and debugging" in en and "代码质量、正确性与调试能力" in zh
    assert "代码质量、正确性与调试能力" not in en
    assert SHIPPED.get("communication").description_shown_en is None  # no description at all: nothing shown


def test_the_zh_console_help_suggests_the_zh_command():
    from bot.sandbox.console.text import TEXTS

    zh, en = TEXTS["help"]
    assert "/面评 6930815272790114324 通过 编码能力=4" in zh and "/assess 6930815272790114324 pass" in en
