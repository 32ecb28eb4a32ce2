"""Checked from outside, over loopback HTTP with the local Open API standing in for Feishu: a schedule file sent in
chat (from someone not allowed, with problems, a good GB18030 CSV) and a Bitable imported by link, each bringing the
ended interview's reminder; the table's status column changes once the feedback is written; a group command after a
colleague's @-mention and the bot's is carried out."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from bot.sandbox.console.render import render
from bot.sandbox.push import card_action, message_event
from tests.support.ids import ALICE, BOB, SANDBOX_APP_ID, SANDBOX_APP_SECRET, SHANGHAI, TOKEN
from tests.support.imports import import_env, run_import
from tests.support.stack import CHAT, Stack
from tests.support.waiting import wait_until

APP, TABLE = "bascnOutsideSchedule0000001", "tblOutside0001"




def local(at: float) -> str:
    return datetime.fromtimestamp(at, SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def stack(database_url):
    running = Stack(database_url, assessbot_schedulers=(ALICE,), assessbot_work_hours="00:00-24:00",
                    assessbot_work_days="1-7")
    yield running
    running.close()


def send_file(stack: Stack, sender: str, name: str, data: bytes, message_id: str) -> None:
    key = stack.api.record_user_file(message_id, CHAT, sender, name, data)
    stack.push(message_event("", token=TOKEN, sender=sender, chat_id=CHAT, message_id=message_id,
                             message_type="file", content={"file_key": key, "file_name": name}))


def answers_to(stack: Stack, message_id: str) -> list[dict]:
    return [m for m in stack.bot_messages() if m.get("parent_id") == message_id]


def test_schedule_files_in_chat_from_outside(stack):
    now = time.time()
    ended, later = now - 2 * 3600, now + 26 * 3600
    rows = [f"8100000000000000001,{ALICE},张伟,后端工程师,技术一面,{local(ended - 3600)},{local(ended)}",
            f"8100000000000000002,ou_someone0001,王芳,产品经理,二面,{local(later - 3600)},{local(later)}"]
    good = ("面试ID,面试官,候选人,职位,轮次,开始时间,结束时间\r\n" + "\r\n".join(rows) + "\r\n").encode("gb18030")

    send_file(stack, BOB, "面试安排.csv", good, "om_outside_bob")  # Bob may not schedule
    [refusal] = wait_until(lambda: answers_to(stack, "om_outside_bob"))
    assert "Only administrators and the people who schedule interviews can import schedules" in \
        render(refusal["card"]).text
    assert stack.api.calls("resource") == []

    bad = good.replace("二面,".encode("gb18030"), "二面,soon,".encode("gb18030"), 1)
    send_file(stack, ALICE, "有问题.csv", bad, "om_outside_bad")
    [problems] = wait_until(lambda: answers_to(stack, "om_outside_bad"))
    assert "Row 3, '开始时间': 'soon' is not a time" in render(problems["card"]).text

    send_file(stack, ALICE, "面试安排.csv", good, "om_outside_good")
    [preview] = wait_until(lambda: answers_to(stack, "om_outside_good"))
    assert [(c["path"], c["query"]) for c in stack.api.calls("resource")][-1] == (
        f"/open-apis/im/v1/messages/om_outside_good/resources/{_file_key(stack, 'om_outside_good')}", {"type": "file"})
    view = render(preview["card"])
    assert "Importing would give: 2 new, 0 updated, 0 unchanged" in view.text
    assert stack.ctx.store.assignments_of(ALICE) == []  # nothing before Import
    [button] = [b for b in view.buttons if b.label == "Import"]
    answer = stack.push(card_action(button.value, None, token=TOKEN, operator=ALICE, message_id=preview["message_id"],
                                    chat_id=CHAT, callback_token=stack.api.issue_callback_token(preview["message_id"])))
    assert answer.status_code == 200
    wait_until(lambda: "Imported" in render(_message(stack, preview["message_id"])["card"]).text)
    reminder = wait_until(lambda: [m for m in stack.bot_messages() if "Your interview feedback is due" in
                                   render(m["card"]).text])
    assert "张伟" in render(reminder[0]["card"]).text


def _file_key(stack: Stack, message_id: str) -> str:
    return next(m for m in stack.api.messages(CHAT) if m["message_id"] == message_id)["file"]["key"]


def _message(stack: Stack, message_id: str) -> dict:
    return next(m for m in stack.api.messages() if m["message_id"] == message_id)


def test_a_bitable_imported_by_link_brings_the_reminder_and_shows_the_feedback(stack, monkeypatch, database_url,
                                                                               tmp_path):
    ended = time.time() - 2 * 3600
    fields = [{"field_name": name, "type": kind} for name, kind in (
        ("面试ID", 1), ("面试官", 11), ("候选人", 1), ("开始时间", 5), ("结束时间", 5), ("面评状态", 1))]
    stack.api.put_table(APP, TABLE, fields, {"recOutside1": {
        "面试ID": [{"type": "text", "text": "8200000000000000001"}], "面试官": [{"id": ALICE, "name": "Alice"}],
        "候选人": [{"type": "text", "text": "李雷"}], "开始时间": int((ended - 3600) * 1000),
        "结束时间": int(ended * 1000)}})
    import_env(monkeypatch, database_url, FEISHU_DOMAIN=stack.openapi.url, FEISHU_APP_ID=SANDBOX_APP_ID,
               FEISHU_APP_SECRET=SANDBOX_APP_SECRET, ASSESSBOT_WORK_HOURS="00:00-24:00", ASSESSBOT_WORK_DAYS="1-7")
    code, out = run_import(tmp_path, f"https://example.feishu.cn/base/{APP}?table={TABLE}", clock=time.time)
    assert (code, out.splitlines()[0]) == (0, f"table {TABLE}: 1 new, 0 updated, 0 unchanged.")
    stack.ctx.runner.wake()
    wait_until(lambda: [m for m in stack.bot_messages() if "李雷" in render(m["card"]).text])
    status = lambda: stack.api.bitables.table(APP, TABLE)["records"]["recOutside1"].get("面评状态")  # noqa: E731
    wait_until(lambda: status() == "已提醒")
    stack.say("/assess 8200000000000000001 pass coding=4", "om_outside_assess")
    wait_until(lambda: status() == "已提交（通过）")
    assert stack.api.bitables.most_at_once == 1


def test_a_group_command_after_a_colleagues_mention_and_the_bots_is_carried_out(stack):
    mentions = [{"key": "@_user_1", "id": {"open_id": BOB}, "name": "Bob"},
                {"key": "@_user_2", "id": {"open_id": stack.api.bot_open_id}, "name": "assessbot"}]
    stack.api.record_user_message("om_outside_group", "oc_outside_group", ALICE, "@_user_1 @_user_2 /assess …")
    stack.push(message_event("@_user_1 @_user_2 /assess 6930815272790114324 pass", token=TOKEN, sender=ALICE,
                             chat_id="oc_outside_group", chat_type="group", message_id="om_outside_group",
                             mentions=mentions))
    wait_until(lambda: stack.api.calls("patch"))
    assert [c["body"] for c in stack.api.calls("patch")] == [{"conclusion": 2}]
