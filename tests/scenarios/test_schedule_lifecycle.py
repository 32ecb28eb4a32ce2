"""The schedule's lifecycle: a re-import states each interview it names as it now is (a replaced interviewer is
withdrawn), interviews are cancelled by a status column, the intake API and /assign, and the scheduling role loads
schedules without the right to change anyone's feedback."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot import queue_start_jobs
from bot.settings import SettingsError, load
from bot.store.schedule import external_id
from cards.errors import denied_card
from cards.notice import text_card
from tests.support.cards import shown
from tests.support.ids import ADMIN, ALICE, BOB, INTAKE, SHANGHAI, make_settings
from tests.support.imports import import_env, run_import, schedule_file

LI_NA, CHEN = "ou_lina0001", "ou_chen0001"
PLANNER, PLANNER_EMAIL = "ou_planner0001", "planner@example.com"
ROWS = ["1001,ou_lina0001,张伟,2026-12-07 10:00,2026-12-07 11:00",
        "1002,ou_chen0001,王芳,2026-12-07 14:00,2026-12-07 15:00"]


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,), assessbot_schedulers=(PLANNER_EMAIL,),
                         assessbot_intake_token=INTAKE)


@pytest.fixture
def cli(monkeypatch, database_url, tmp_path, app):
    """`assessbot import` against the app's database."""
    import_env(monkeypatch, database_url)
    return tmp_path


def one(ctx, interview: str, person: str):
    return next(a for a in ctx.store.find_assignments(interview) if a.interviewer == person)


def reminded(ctx, clock, feishu, moment: float) -> list[str]:
    """Run what is due at `moment`; the people a reminder card went to."""
    clock.now = moment
    ctx.runner.drain()
    return sorted(json.loads(c.request.body)["receive_id"] for c in feishu.calls("POST", "/im/v1/messages?")
                  if "/reply" not in c.request.url and ":r" in json.loads(c.request.body)["uuid"][-2:])


def test_a_replaced_interviewer_is_withdrawn_named_in_the_dry_run_and_the_summary_and_never_reminded(
        cli, ctx, clock, feishu):
    """It withdraws only from the interviews the file names; the dry run writes nothing."""
    assert run_import(cli, schedule_file(cli, "week.csv", ROWS))[1].splitlines()[0] == \
        "week.csv: 2 new, 0 updated, 0 unchanged."
    ctx.store.remember_names({LI_NA: "Li Na"})
    replaced = schedule_file(cli, "replaced.csv", ["1001,ou_bob0001,张伟,2026-12-07 10:00,2026-12-07 11:00"])
    assert run_import(cli, replaced, "--dry-run")[1].splitlines() == [
        "replaced.csv: dry run, nothing written; importing would give 1 new, 0 updated, 0 unchanged, 1 withdrawn.",
        "  replaced.csv：试运行，未写入任何内容；若导入将会：新增 1，更新 0，未变 0，撤回 1。",
        "Would withdraw: Li Na (ou_lina0001) from interview 1001 (张伟); reminders stop.",
        "  将撤回：Li Na（ou_lina0001） 不再参加面试 1001（张伟），提醒将停止。"]
    assert one(ctx, "1001", LI_NA).stopped is None
    assert run_import(cli, replaced)[1].splitlines() == [
        "replaced.csv: 1 new, 0 updated, 0 unchanged, 1 withdrawn.",
        "  replaced.csv：新增 1，更新 0，未变 0，撤回 1。",
        "Withdrawn: Li Na (ou_lina0001) from interview 1001 (张伟); reminders stop.",
        "  已撤回：Li Na（ou_lina0001） 不再参加面试 1001（张伟），提醒已停止。"]
    assert (one(ctx, "1001", LI_NA).stopped, one(ctx, "1002", CHEN).stopped) == ("withdrawn", None)
    assert run_import(cli, replaced)[1].splitlines()[0] == "replaced.csv: 0 new, 0 updated, 1 unchanged."
    assert reminded(ctx, clock, feishu, at("2026-12-07 18:00")) == ["ou_bob0001", CHEN]
    assert ctx.store.due(LI_NA, clock()) == [] and ctx.store.due("ou_bob0001", clock()) != []


def test_feedback_already_written_stays_and_is_reported(cli, ctx):
    run_import(cli, schedule_file(cli, "week.csv", ROWS))
    written = one(ctx, "1001", LI_NA)
    ctx.store.learn_feishu_id(written.key, "6930000000000000001")
    ctx.store.update_assignment(written.id, submitted_at=at("2026-12-07 11:30"))
    code, out = run_import(cli, schedule_file(cli, "replaced.csv", ["1001,ou_bob0001,张伟,2026-12-07 10:00,"
                                                                    "2026-12-07 11:00"]))
    assert out.splitlines()[2:] == [
        "Withdrawn: ou_lina0001 from interview 1001 (张伟); reminders stop. The feedback they already wrote stays in "
        "Feishu Hire (assessment 6930000000000000001).",
        "  已撤回：ou_lina0001 不再参加面试 1001（张伟），提醒已停止。"
        "TA 已提交的反馈保留在飞书招聘中（面评 6930000000000000001）。"]
    kept = one(ctx, "1001", LI_NA)
    assert (kept.stopped, kept.submitted_at, kept.feishu_assessment_id) == (
        "withdrawn", at("2026-12-07 11:30"), "6930000000000000001")


def test_a_cancelled_status_cancels_and_naming_the_interview_again_brings_it_back(cli, ctx, clock, feishu):
    run_import(cli, schedule_file(cli, "week.csv", ROWS))
    header = "面试ID,面试官,候选人,开始时间,结束时间,状态"
    cancelled = schedule_file(cli, "cancelled.csv", [ROWS[1] + ",已取消"], header)
    assert run_import(cli, cancelled)[1].splitlines() == [
        "cancelled.csv: 0 new, 0 updated, 0 unchanged, 1 cancelled.",
        "  cancelled.csv：新增 0，更新 0，未变 0，取消 1。",
        "Cancelled: interview 1002 (王芳) for ou_chen0001; reminders stop.",
        "  已取消：ou_chen0001 的面试 1002（王芳），提醒已停止。"]
    assert (one(ctx, "1002", CHEN).stopped, one(ctx, "1002", CHEN).remind_at) == ("cancelled", None)
    assert one(ctx, "1001", LI_NA).stopped is None  # not named in the file: left alone
    assert run_import(cli, cancelled)[1].splitlines()[0] == "cancelled.csv: 0 new, 0 updated, 1 unchanged."
    back = schedule_file(cli, "back.csv", [ROWS[1] + ","], header)
    assert run_import(cli, back)[1].splitlines()[0] == "back.csv: 0 new, 1 updated, 0 unchanged."
    assert (one(ctx, "1002", CHEN).stopped, one(ctx, "1002", CHEN).remind_at) == (None, at("2026-12-07 16:00"))
    assert reminded(ctx, clock, feishu, at("2026-12-07 18:00")) == [CHEN, LI_NA]


def test_a_status_that_is_nearly_cancelled_is_a_warning_and_the_row_stays_scheduled(cli, ctx):
    header = "interview_id,interviewer,candidate,start,end,status"
    code, out = run_import(cli, schedule_file(cli, "typo.csv", [ROWS[0] + ",canceld"], header))
    assert code == 0 and out.splitlines()[:1] == [
        "! Row 2, 'status': a status not understood, taken as scheduled; did you mean 'canceled'?"]
    assert one(ctx, "1001", LI_NA).stopped is None


def test_an_interview_with_a_refused_row_withdraws_nobody_when_the_rest_is_imported(cli, ctx):
    run_import(cli, schedule_file(cli, "week.csv", ROWS))
    partly = schedule_file(cli, "partly.csv", ["1001,ou_bob0001,张伟,2026-12-07 10:00,2026-12-07 11:00",
                                               "1001,ou_lina0001,张伟,tomorrow,2026-12-07 11:00",
                                               "1002,ou_bob0001,王芳,2026-12-07 14:00,2026-12-07 15:00"])
    code, out = run_import(cli, partly, "--skip-invalid")
    assert code == 0 and "partly.csv: 2 new, 0 updated, 0 unchanged, 1 withdrawn." in out.splitlines()
    assert (one(ctx, "1001", LI_NA).stopped, one(ctx, "1002", CHEN).stopped) == (None, "withdrawn")


def test_a_new_interviewer_on_the_same_assessment_takes_it_over_unless_feedback_was_written(cli, ctx):
    header = "interview_id,assessment_id,interviewer,candidate,start,end"
    run_import(cli, schedule_file(cli, "a.csv", ["2001,6930000000000000001,ou_lina0001,张伟,2026-12-07 10:00,"
                                                 "2026-12-07 11:00",
                                                 "2002,6930000000000000002,ou_chen0001,王芳,2026-12-07 10:00,"
                                                 "2026-12-07 11:00"], header))
    ctx.store.update_assignment(one(ctx, "2002", CHEN).id, submitted_at=at("2026-12-07 11:30"))
    code, out = run_import(cli, schedule_file(cli, "b.csv", ["2001,6930000000000000001,ou_bob0001,张伟,2026-12-07 "
                                                             "10:00,2026-12-07 11:00",
                                                             "2002,6930000000000000002,ou_bob0001,王芳,2026-12-07 "
                                                             "10:00,2026-12-07 11:00"], header))
    assert code == 0 and out.splitlines()[0] == "b.csv: 2 new, 0 updated, 0 unchanged, 2 withdrawn."
    taken, left = one(ctx, "2001", "ou_bob0001"), one(ctx, "2001", LI_NA)
    assert (taken.key, taken.feishu_assessment_id, ctx.store.owner_of(taken.key)) == (
        "6930000000000000001", "6930000000000000001", "ou_bob0001")
    assert (left.key, left.feishu_assessment_id) == (external_id("2001", LI_NA), None)
    own, kept = one(ctx, "2002", "ou_bob0001"), one(ctx, "2002", CHEN)
    assert (own.key, own.feishu_assessment_id) == (external_id("2002", "ou_bob0001"), None)
    assert (kept.key, kept.feishu_assessment_id, kept.stopped) == ("6930000000000000002", "6930000000000000002",
                                                                   "withdrawn")


def post(app, body):
    return app.test_client().post("/api/interviews", data=json.dumps(body, ensure_ascii=False).encode(),
                                  headers={"Authorization": f"Bearer {INTAKE}"}, content_type="application/json")


def test_the_intake_api_withdraws_cancels_and_lists_both(app, ctx):
    first = [{"interview_id": "1001", "interviewer": LI_NA, "candidate": "张伟", "start": "2026-12-07 10:00",
              "end": "2026-12-07 11:00"},
             {"interview_id": "1001", "interviewer": CHEN, "candidate": "张伟", "start": "2026-12-07 10:00",
              "end": "2026-12-07 11:00"},
             {"interview_id": "1003", "interviewer": CHEN, "candidate": "李雷", "start": "2026-12-08 10:00",
              "end": "2026-12-08 11:00"}]
    assert post(app, first).get_json()["new"] == 3
    ctx.store.update_assignment(one(ctx, "1001", CHEN).id, submitted_at=at("2026-12-07 11:30"))
    response = post(app, [first[0], {"interview_id": "1003", "status": "cancelled"}])
    assert (response.status_code, response.get_json()) == (200, {
        "new": 0, "updated": 0, "unchanged": 1,
        "withdrawn": [{"interview_id": "1001", "interviewer": CHEN, "candidate": "张伟", "feedback_written": True}],
        "cancelled": [{"interview_id": "1003", "interviewer": CHEN, "candidate": "李雷", "feedback_written": False}],
        "warnings": []})
    assert [(a.interview_id, a.stopped) for a in ctx.store.assignments_of(CHEN)] == [("1001", "withdrawn"),
                                                                                     ("1003", "cancelled")]


def test_a_cancellation_without_an_interview_id_is_a_problem(app, ctx):
    response = post(app, [{"interviewer": LI_NA, "status": "已取消"}])
    assert (response.status_code, response.get_json()["problems"]) == (400, [
        {"row": 1, "column": "interview_id", "zh": "不能为空。", "en": "is empty."}])


def assign(push, text: str, sender: str, mentions=()):
    return push.message(text, sender=sender, mentions=[{"key": key, "id": {"open_id": who}, "name": name}
                                                       for key, who, name in mentions])


def cards(feishu) -> list[dict]:
    return [sent["card"] for sent in feishu.sent_cards()]


def test_assign_cancel_stops_the_interview_for_everyone_or_for_one_and_is_audited(app, ctx, push, clock,
                                                                                feishu):
    post(app, [{"interview_id": "1001", "interviewer": who, "candidate": "张伟", "start": "2026-12-07 10:00",
                "end": "2026-12-07 11:00"} for who in (LI_NA, CHEN, BOB)])
    ctx.store.remember_names({LI_NA: "Li Na"})
    assign(push, "/assign 1001 @_user_2 cancel", ADMIN, [("@_user_2", BOB, "Bob")])
    assign(push, "/安排 1001 取消", ADMIN)
    assign(push, "/assign 1001 status=cancelled", ADMIN)
    assign(push, "/assign 9999 cancel", ADMIN)
    ctx.runner.drain()
    assert cards(feishu)[:4] == [
        text_card(f"已取消：{BOB} 的面试 1001（张伟），提醒已停止。",  # a name the cache does not know yet
                  f"Cancelled: interview 1001 (张伟) for {BOB}; reminders stop.", "green"),
        text_card("已取消：Li Na（ou_lina0001） 的面试 1001（张伟），提醒已停止。\n"
                  "已取消：ou_chen0001 的面试 1001（张伟），提醒已停止。",
                  "Cancelled: interview 1001 (张伟) for Li Na (ou_lina0001); reminders stop.\n"
                  "Cancelled: interview 1001 (张伟) for ou_chen0001; reminders stop.", "green"),
        text_card("面试 1001（张伟）的提醒已经停止（已取消、已撤回或不是本人面试），没有改动。",
                  "Interview 1001 (张伟) has no reminders running (cancelled, withdrawn or not theirs); nothing "
                  "changed.", "grey"),
        text_card("日程中没有面试 9999，没有取消任何内容。",
                  "There is no interview 9999 in the schedule; nothing was cancelled.", "orange")]
    assert {a.stopped for a in ctx.store.find_assignments("1001")} == {"cancelled"}
    assert [(e.action, e.detail["interviewer"]) for e in ctx.store.history(actor=ADMIN)] == [  # newest first
        ("cancel", CHEN), ("cancel", LI_NA), ("cancel", BOB)]
    assert reminded(ctx, clock, feishu, at("2026-12-07 18:00")) == []


def test_assign_cancel_cannot_be_mixed_with_other_fields(push, ctx, feishu):
    assign(push, "/assign 1001 cancel candidate=张伟", ADMIN)
    ctx.runner.drain()
    assert "To cancel, give only the interview id (and the @interviewer whose part is cancelled), not " \
           "'candidate'." in shown(cards(feishu)[0])


def test_a_scheduler_named_by_email_is_recognised_once_looked_up_and_may_assign_and_cancel(push, ctx, feishu):
    feishu.people({PLANNER_EMAIL: PLANNER})
    text = "/assign 1001 @_user_2 candidate=张伟 end=2026-12-07 11:00"
    assign(push, text, PLANNER, [("@_user_2", LI_NA, "Li Na")])
    ctx.runner.drain()  # refused; the look-up of the schedulers named by email runs meanwhile
    assert cards(feishu)[0] == denied_card(
        "只有管理员和负责排期的人可以安排面试官。请联系：planner@example.com。",
        "Only administrators and the people who schedule interviews can assign interviewers. Ask "
        "planner@example.com.")
    assert feishu.lookups() == [{"emails": [PLANNER_EMAIL], "mobiles": []}]
    assign(push, text, PLANNER, [("@_user_2", LI_NA, "Li Na")])
    assign(push, "/assign 1001 cancel", PLANNER)
    ctx.runner.drain()
    assert [shown(card).splitlines()[-1].split(":")[0] for card in cards(feishu)[-2:]] == ["Assigned",
                                                                                                "Cancelled"]
    assert one(ctx, "1001", LI_NA).stopped == "cancelled"


def test_a_scheduler_cannot_change_someone_elses_feedback(push, ctx, feishu):
    ctx.store.remember_people({PLANNER_EMAIL: PLANNER})
    push.message("/assess 6930815272790114324 pass", sender=ALICE)
    push.message("/assess 6930815272790114324 fail", sender=PLANNER)
    ctx.runner.drain()
    assert f"{ALICE} owns this assessment" in shown(cards(feishu)[-1])  # its name not learnt yet: its open_id
    assert [p["conclusion"] for p in feishu.patches()] == [2]


def test_the_start_queues_the_look_up_of_schedulers_named_by_email_once_a_day(ctx, feishu):
    feishu.people({PLANNER_EMAIL: PLANNER})
    queue_start_jobs(ctx)
    queue_start_jobs(ctx)  # another process starting: the same day's key
    ctx.runner.drain()
    assert feishu.lookups() == [{"emails": [PLANNER_EMAIL], "mobiles": []}]
    assert ctx.store.people([PLANNER_EMAIL], 0) == {PLANNER_EMAIL: PLANNER}
    queue_start_jobs(ctx)
    assert ctx.store.jobs_by_status() == {"done": 1}  # known now: nothing to look up


def test_schedulers_are_open_ids_or_emails(monkeypatch, tmp_path):
    import_env(monkeypatch, f"sqlite:///{tmp_path / 'x.db'}", ASSESSBOT_SCHEDULERS="ou_a1, Planner@Example.com")
    assert load(None).assessbot_schedulers == ("ou_a1", "planner@example.com")
    monkeypatch.setenv("ASSESSBOT_SCHEDULERS", "ou_a1, bob")
    with pytest.raises(SettingsError, match="ASSESSBOT_SCHEDULERS 'bob' is neither an open_id"):
        load(None)
