"""A readable /history and an ownership refusal that names the owner and the way to a hand-over."""

from __future__ import annotations

from tests.support.cards import shown
from tests.support.ids import AID, ALICE, BOB
from tests.support.rubrics import SHIPPED

CAROL = "ou_carol00000000000000000000000000"  # not in the contact directory: Feishu refuses her name (41050)


def _say(push, ctx, text: str, sender: str = ALICE) -> None:
    push.message(text, sender=sender)
    ctx.runner.drain()


def test_history_names_people_titles_conclusions_and_folds_away_no_op_saves(push, feishu, ctx):
    _say(push, ctx, f"/assess {AID} pending coding=3 comment=first")
    _say(push, ctx, f"/assess {AID} pass coding=4 comment=second")
    ctx.store.record(ALICE, AID, "write", "ok", {"version": 9, "fields": {}}, None)  # a save that changed nothing
    _say(push, ctx, f"/history {AID}")
    card = feishu.sent_cards()[-1]["card"]
    en, zh = shown(card), shown(card, "zh_cn")
    assert "Owner: Alice Zhang" in en and "负责人：Alice Zhang" in zh
    assert " · Alice Zhang saved the assessment" in en and ALICE not in en and "log" not in en.casefold()
    assert "Conclusion: Pending → Pass\nCoding: 3 → 4\nOverall comment: changed" in en
    assert "结论：待定 → 通过\n编码能力：3 → 4\n综合记录：已修改" in zh
    assert "1 save that changed nothing is not shown." in en and "另有 1 次保存没有改动任何内容，未显示。" in zh


def test_history_shows_the_open_id_when_the_name_is_unavailable(push, feishu, ctx):
    _say(push, ctx, f"/assess {AID} pass", sender=CAROL)
    _say(push, ctx, f"/history {AID}", sender=CAROL)
    assert f"Owner: {CAROL}" in shown(feishu.sent_cards()[-1]["card"])
    assert [(c["path"], c["code"]) for c in feishu.api.calls("contact")] == [
        (f"/open-apis/contact/v3/users/{CAROL}", 41050)]  # Feishu would not tell her name; it was asked once


def test_history_of_an_id_never_seen_says_no_history(push, feishu, ctx):
    _say(push, ctx, "/history 7000000000000000001", sender=BOB)
    card = feishu.sent_cards()[-1]["card"]
    assert "No history for 7000000000000000001: the bot has never handled this assessment. Check the id." in shown(card)
    assert "没有面评 7000000000000000001 的记录" in shown(card, "zh_cn") and "Not allowed" not in shown(card)


def test_the_recruiter_of_the_interview_may_read_its_history(push, feishu, ctx, clock):
    row = {"interview_id": "iv_history", "interviewer": ALICE, "feishu_assessment_id": AID, "candidate": "张伟",
           "start_at": clock() - 7200, "end_at": clock() - 3600, "recruiter": BOB}
    ctx.store.upsert_assignments([row], lambda after, before: (None, []))
    _say(push, ctx, f"/assess {AID} pass")
    _say(push, ctx, f"/history {AID}", sender=BOB)
    assert "Assessment history" in shown(feishu.sent_cards()[-1]["card"])
    _say(push, ctx, f"/history {AID}", sender=CAROL)
    assert "Only the owner, the recruiter or an administrator" in shown(feishu.sent_cards()[-1]["card"])


def test_someone_elses_assessment_is_refused_naming_the_owner_and_the_hand_over(push, feishu, ctx):
    _say(push, ctx, f"/assess {AID} pass")
    _say(push, ctx, f"/assess {AID} fail", sender=BOB)
    card = feishu.sent_cards()[-1]["card"]
    assert shown(card).endswith(
        "Alice Zhang owns this assessment; only they or an administrator can change it. To have it handed over to "
        f"you, ask an administrator to send /assess {AID} owner=@you.")
    assert ("这条面评由 Alice Zhang 负责，只有 TA 或管理员可以修改。"
            f"如需转交给你，请管理员发送 /面评 {AID} owner=@你。") in shown(card, "zh_cn")
    assert len(feishu.patches()) == 1


def test_a_clicked_write_to_someone_elses_assessment_names_the_owner_too(push, feishu, ctx):
    from bot import auth

    _say(push, ctx, f"/assess {AID} pass")
    value = auth.form_value(ctx.settings, AID, BOB, "nonce00000001")
    answer = push.card(value, {"conclusion": "1", "dim_coding": "4", "dim_design": "3"}, operator=BOB).get_json()
    assert answer["toast"]["i18n"]["en_us"].startswith("Alice Zhang owns this assessment")


def test_history_lists_what_changed_in_the_forms_order():
    from bot.commands.history import _change_lines

    rubric = SHIPPED
    detail = {"fields": {"content": "changed", "design": [None, 3], "conclusion": [None, 2], "coding": [2, 4]}}
    assert [en for _, en in _change_lines(detail, rubric)] == [
        "Conclusion: — → Pass", "Coding: 2 → 4", "System design: — → 3", "Overall comment: changed"]
