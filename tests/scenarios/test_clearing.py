"""Clearing is one rule, typed and clicked: text clears, scores and choices say they cannot; no-ops say so."""

from __future__ import annotations

from bot import auth
from tests.support.cards import shown
from tests.support.ids import AID, ALICE

FORM = {"conclusion": "2", "dim_coding": "4", "dim_design": "3", "dim_notes": "Solid.", "content": "clear thinker"}


def _typed(push, ctx, text: str) -> None:
    push.message(text)
    ctx.runner.drain()


def _clicked(push, ctx, form_value: dict, n: int) -> dict:
    value = auth.form_value(ctx.settings, AID, ALICE, f"nonce{n:08d}")
    answer = push.card(value, form_value).get_json()
    ctx.runner.drain()
    return answer


def test_typed_comment_empty_quotes_or_dash_clears_the_comment(push, feishu, ctx):
    for clear in ('comment=""', "comment=-", "评语=“”"):
        _typed(push, ctx, f"/assess {AID} pass comment=kept")
        _typed(push, ctx, f"/assess {AID} {clear}")
        assert feishu.patches()[-1] == {"content": ""}
        assert ctx.store.known(AID).state.content is None
        card = feishu.sent_cards()[-1]["card"]
        assert "Assessment updated" in shown(card) and "Overall comment" not in shown(card)


def test_typed_dash_clears_a_text_dimension_and_sends_it_empty(push, feishu, ctx):
    _typed(push, ctx, f"/assess {AID} pass coding=4 notes=long")
    _typed(push, ctx, f"/面评 {AID} 面试记录=-")
    assert feishu.patches()[-1]["assessment_dimension_list"] == [
        {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力", "score": 4},
        {"assessment_type": 3, "title": "面试记录", "content": ""}]
    assert ctx.store.known(AID).state.dimensions == {"coding": 4}


def test_a_score_or_choice_cannot_be_cleared_and_the_answer_says_so(push, feishu, ctx):
    _typed(push, ctx, f"/assess {AID} pass coding=4 level=P6")
    _typed(push, ctx, f'/assess {AID} coding=- level=""')
    assert len(feishu.patches()) == 1
    card = feishu.sent_cards()[-1]["card"]
    assert "'Coding' is a score; the Hire API cannot clear a score, so it keeps its value — give a new value to " \
           "change it" in shown(card)
    assert "'Suggested level' is a choice; the Hire API cannot clear a choice" in shown(card)
    assert "“编码能力”是分数，飞书招聘接口无法清空分数；原值保持不变，如需修改请给出新值" in shown(card, "zh_cn")
    assert ctx.store.known(AID).state.dimensions == {"coding": 4, "level": "P6"}


def test_a_typed_submission_that_changes_nothing_says_nothing_changed_and_sends_nothing(push, feishu, ctx):
    _typed(push, ctx, f"/assess {AID} pass coding=4")
    _typed(push, ctx, f"/面评 {AID} 通过 编码能力=4")
    assert len(feishu.patches()) == 1
    card = feishu.sent_cards()[-1]["card"]
    assert card["header"]["title"]["i18n_content"] == {"zh_cn": "没有改动", "en_us": "Nothing changed"}
    assert "What you sent is what is already saved; nothing was sent to Feishu." in shown(card)
    assert "提交的内容与已保存的相同，没有发送给飞书。" in shown(card, "zh_cn")


def test_an_emptied_form_comment_or_text_clears_what_was_recorded(push, feishu, ctx):
    _clicked(push, ctx, FORM, 1)
    assert feishu.patches()[-1]["content"] == "clear thinker"
    _clicked(push, ctx, {**FORM, "content": "", "dim_notes": ""}, 2)
    body = feishu.patches()[-1]
    assert body["content"] == ""
    assert {"assessment_type": 3, "title": "面试记录", "content": ""} in body["assessment_dimension_list"]
    assert ctx.store.known(AID).state.content is None and "notes" not in ctx.store.known(AID).state.dimensions


def test_an_empty_form_comment_that_showed_nothing_is_not_sent(push, feishu, ctx):
    _clicked(push, ctx, {**FORM, "content": ""}, 1)
    assert "content" not in feishu.patches()[-1]


def test_an_emptied_form_choice_comes_back_saying_it_cannot_be_cleared(push, feishu, ctx):
    _clicked(push, ctx, {**FORM, "dim_strengths": ["算法"]}, 1)
    answer = _clicked(push, ctx, {**FORM, "dim_strengths": []}, 2)
    assert len(feishu.patches()) == 1
    assert "'Strengths' is a choice; the Hire API cannot clear a choice" in shown(answer["card"]["data"])


def test_a_form_that_changes_nothing_answers_nothing_changed(push, feishu, ctx):
    _clicked(push, ctx, FORM, 1)
    answer = _clicked(push, ctx, FORM, 2)
    assert len(feishu.patches()) == 1
    assert answer["toast"]["i18n"] == {"zh_cn": "没有改动，未发送给飞书。",
                                       "en_us": "Nothing changed; nothing was sent to Feishu."}
