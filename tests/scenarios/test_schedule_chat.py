"""The schedule without a shell, in chat: a file sent to the bot is downloaded by a job, previewed, and imported only
when its sender presses Import (once, even pressed twice, even after a restart); files from others or that are not
schedules are answered without downloading anything; in a group, "@bot import" replying to the file does the same."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest

from bot import create_app
from tests.support.cards import nodes, shown
from tests.support.ids import ADMIN, ALICE, BOB, SHANGHAI, TOKEN, make_settings
from tests.support.push import Push

PLANNER = "ou_planner0000000000000000000000000"
LI_NA, CHEN = "ou_lina0001", "ou_chen0001"
FILE_KEY = "file_v3_00ab_7e1f0d2c-3c1e-4a6e-9b1c-000000000001"
HEADER = "面试ID,面试官,候选人,职位,轮次,开始时间,结束时间"
GOOD = [f"7412358746023518273,{LI_NA},张伟,后端工程师,技术一面,2026-12-07 10:00,2026-12-07 11:00",
        f"7412358746023518274,{CHEN},王芳,产品经理,二面,2026-12-08 14:00,2026-12-08 15:00"]


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()


def csv(rows: list[str], header: str = HEADER, encoding: str = "gb18030") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, assessbot_admins=(ADMIN,), assessbot_schedulers=(PLANNER,),
                         assessbot_schedule_file_max_bytes=64 * 1024)


def cards(feishu) -> list[dict]:
    return [sent["card"] for sent in feishu.sent_cards()]


def last(feishu) -> str:
    return shown(feishu.sent_cards()[-1]["card"])


def buttons(card: dict) -> dict[str, dict]:
    """Each button's label (English) and the value it sends."""
    return {node["text"]["i18n_content"]["en_us"]: node["behaviors"][0]["value"] for node in nodes(card)
            if node.get("tag") == "button" and node.get("behaviors")}


def send(push, ctx, feishu, data: bytes, name: str = "面试安排.csv", sender: str = PLANNER,
         message_id: str = "om_file0001") -> dict:
    """`sender` sends the file to the bot; the jobs run; the last card the bot sent."""
    feishu.files({(message_id, FILE_KEY): (data, name)}, sender=sender)
    push.file(FILE_KEY, name, sender=sender, message_id=message_id)
    ctx.runner.drain()
    return feishu.sent_cards()[-1]


def click(push, ctx, clock, value: dict, operator: str = PLANNER, message_id: str = "om_reply0001"):
    """Press a button of the preview; then the import (which waits a moment after the click) runs."""
    answer = push.card(value, operator=operator, message_id=message_id).get_json()
    clock.advance(2)
    ctx.runner.drain()
    return answer


def test_a_file_from_someone_not_allowed_is_answered_and_nothing_is_downloaded(push, ctx, feishu):
    card = send(push, ctx, feishu, csv(GOOD), sender=ALICE)
    assert shown(card["card"]).splitlines()[-1] == (
        "Only administrators and the people who schedule interviews can import schedules. Ask an administrator.")
    assert card["url"] == "/open-apis/im/v1/messages/om_file0001/reply"
    assert feishu.downloads() == [] and ctx.store.upload("om_file0001") is None
    assert ctx.store.assignments_of(LI_NA) == []


def test_a_file_that_is_not_a_schedule_gets_a_short_answer_and_is_not_downloaded(push, ctx, feishu):
    card = send(push, ctx, feishu, b"%PDF-1.7", name="简历.pdf")
    assert "'简历.pdf' is not a schedule I can read. I take interview schedules from admins and schedulers as CSV, " \
           "Excel (.xlsx) or JSON Lines files" in shown(card["card"])
    assert feishu.downloads() == []


def test_a_gb18030_csv_is_downloaded_previewed_and_imported_only_on_import(push, ctx, clock, feishu):
    preview = send(push, ctx, feishu, csv(GOOD))
    assert feishu.downloads() == [f"/open-apis/im/v1/messages/om_file0001/resources/{FILE_KEY}?type=file"]
    assert preview["url"] == "/open-apis/im/v1/messages/om_file0001/reply"
    text = shown(preview["card"])
    assert "Schedule preview: 面试安排.csv" in text
    assert "**Importing would give**: 2 new, 0 updated, 0 unchanged" in text
    assert "Checked. Nothing is imported until you press Import." in text
    assert "**The first 2 of 2 rows, as interviewers will see them**" in text
    assert "Candidate: 张伟\nJob: 后端工程师\nRound: 技术一面\nTime: 2026-12-07 10:00 CST (UTC+08:00) – 11:00" in text
    assert "候选人：王芳\n职位：产品经理\n轮次：二面" in shown(preview["card"], "zh_cn")
    assert set(buttons(preview["card"])) == {"Import", "Cancel"}
    assert ctx.store.assignments_of(LI_NA) == []  # nothing before Import
    answer = click(push, ctx, clock, buttons(preview["card"])["Import"])
    assert answer["toast"]["i18n"]["en_us"] == "Importing; this card shows the result when done."
    assert [a.candidate for a in ctx.store.assignments_of(LI_NA)] == ["张伟"]
    result = feishu.sent_cards()[-1]
    assert result["via"] == "delayed"
    assert "Imported 面试安排.csv" in shown(result["card"]) and "**Imported**: 2 new, 0 updated, 0 unchanged" in \
        shown(result["card"])
    clock.now = at("2026-12-07 12:00")  # the ended interview's reminder comes
    ctx.runner.drain()
    reminder = feishu.sent_cards()[-1]
    assert json.loads(feishu.mock.calls[-1].request.body)["receive_id"] == LI_NA
    assert "Your interview feedback is due" in shown(reminder["card"])


def test_a_second_import_does_nothing_twice(push, ctx, clock, feishu):
    preview = send(push, ctx, feishu, csv(GOOD))
    value = buttons(preview["card"])["Import"]
    click(push, ctx, clock, value)
    jobs = ctx.store.jobs_by_status()
    answer = click(push, ctx, clock, value)
    said = "这份文件已经导入过了，不会重复导入。"
    assert answer == {"toast": {"type": "info", "content": said, "i18n": {
        "zh_cn": said, "en_us": "This file was imported already; nothing is imported twice."}}}
    assert ctx.store.jobs_by_status() == jobs
    assert [e.result for e in ctx.store.history(actor=PLANNER) if e.action == "import"] == ["ok", "asked"]


def test_the_preview_survives_a_restart_and_imports_after_it(push, ctx, clock, feishu, settings, app):
    preview = send(push, ctx, feishu, csv(GOOD))
    ctx.store.dispose()
    restarted = create_app(settings, clock=clock, start_runner=False)
    again = restarted.extensions["assessbot"]
    try:
        click(Push(restarted.test_client(), clock, feishu.api), again, clock, buttons(preview["card"])["Import"])
        assert [a.candidate for a in again.store.assignments_of(CHEN)] == ["王芳"]
    finally:
        again.inline.shutdown(wait=True)
        again.store.dispose()


def test_problems_are_listed_with_row_and_column_and_the_valid_rows_can_be_imported(push, ctx, clock, feishu):
    rows = [*GOOD, f"7412358746023518275,{LI_NA},李雷,,,2026-12-09 10:00,tomorrow",
            "7412358746023518276,nobody,韩梅梅,,,2026-12-09 10:00,2026-12-09 11:00"]
    preview = send(push, ctx, feishu, csv(rows))
    text = shown(preview["card"])
    assert "2 problems found (below). Fix the file and send it again, or import the rows without problems." in text
    assert "Row 4, '结束时间': 'tomorrow' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00." in text
    assert "Row 5, '面试官': 'nobody' is not an open_id (ou_…), an email or a mobile number." in text
    assert "第 4 行，“结束时间”：“tomorrow”不是时间" in shown(preview["card"], "zh_cn")
    assert "**Importing the valid rows would give**: 2 new, 0 updated, 0 unchanged" in text
    assert set(buttons(preview["card"])) == {"Import the valid rows", "Cancel"}
    click(push, ctx, clock, buttons(preview["card"])["Import the valid rows"])
    assert "Skipped 2 rows with problems." in last(feishu)
    assert len(ctx.store.assignments_of(LI_NA)) == 1


def test_cancel_imports_nothing_and_a_later_import_is_refused(push, ctx, clock, feishu):
    preview = send(push, ctx, feishu, csv(GOOD))
    answer = click(push, ctx, clock, buttons(preview["card"])["Cancel"])
    assert "Nothing was imported." in shown(answer["card"]["data"])
    assert click(push, ctx, clock, buttons(preview["card"])["Import"])["toast"]["i18n"]["en_us"] == \
        "This file was cancelled; send it again to import it."
    assert ctx.store.assignments_of(LI_NA) == []


def test_only_the_sender_or_an_admin_may_press_import(push, ctx, clock, feishu):
    preview = send(push, ctx, feishu, csv(GOOD))
    answer = click(push, ctx, clock, buttons(preview["card"])["Import"], operator=BOB)
    assert answer["toast"]["i18n"]["en_us"] == \
        "Only the person who sent this file (or an admin) can import or cancel it."
    assert ctx.store.assignments_of(LI_NA) == []


def test_an_xlsx_with_chinese_headers_dates_and_a_formula_is_read_without_evaluating_it(push, ctx, feishu):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["面试ID", "面试官", "候选人", "开始时间", "结束时间"])
    sheet.append(["7412358746023518273", LI_NA, "张伟", datetime(2026, 12, 7, 10), datetime(2026, 12, 7, 11)])
    sheet.append(["7412358746023518274", CHEN, "=A2&\"x\"", datetime(2026, 12, 8, 10), datetime(2026, 12, 8, 11)])
    data = io.BytesIO()
    book.save(data)
    preview = send(push, ctx, feishu, data.getvalue(), name="schedule.xlsx")
    text = shown(preview["card"])
    assert "Candidate: 张伟" in text and "Row 3, '候选人': is empty." in text  # a formula has no saved value: none
    assert "**Importing the valid rows would give**: 1 new, 0 updated, 0 unchanged" in text


def test_a_large_file_is_answered_at_once_and_the_preview_replaces_that_answer(push, ctx, feishu):
    rows = [f"{8000 + n},ou_bulk{n:04d},候选人{n},,,2026-12-07 10:00,2026-12-07 11:00" for n in range(250)]
    send(push, ctx, feishu, csv(rows, encoding="utf-8-sig"))
    first, preview = feishu.sent_cards()
    assert (first["via"], shown(first["card"]).splitlines()[-1]) == (
        "reply", "Checking 250 rows… This card becomes the preview when done; nothing is imported until you say so.")
    assert (preview["via"], preview["url"]) == ("patch", "/open-apis/im/v1/messages/om_reply0001")
    assert "**The first 5 of 250 rows, as interviewers will see them**" in shown(preview["card"])


def test_a_file_larger_than_the_bot_reads_is_refused_with_a_clear_answer(push, ctx, feishu):
    card = send(push, ctx, feishu, csv(GOOD * 1000, encoding="utf-8"))
    assert "The file is larger than the 64 KB I read; split it and send the parts." in shown(card["card"])
    assert ctx.store.upload("om_file0001").state == "failed"


def test_a_workbook_that_unpacks_to_far_more_than_it_holds_is_refused_unopened(push, ctx, feishu):
    import zipfile

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/sharedStrings.xml", b"<" + b"0" * (8 * 1024 * 1024))
    card = send(push, ctx, feishu, data.getvalue(), name="bomb.xlsx")
    assert "This workbook unpacks to far more than it holds" in shown(card["card"])


def test_a_missing_scope_on_the_download_says_which_and_is_not_retried(push, ctx, feishu):
    feishu.files({("om_file0001", FILE_KEY): (csv(GOOD), "面试安排.csv")}, sender=PLANNER)
    feishu.api.fault("resource", "no_scope")  # 400, 99991672: every download, until cleared
    push.file(FILE_KEY, "面试安排.csv", sender=PLANNER, message_id="om_file0001")
    ctx.runner.drain()
    assert "The bot lacks the scope to read files in messages (im:message:readonly); ask your admin." in \
        last(feishu)
    assert len(feishu.downloads()) == 1 and "dead" not in ctx.store.jobs_by_status()


def test_in_a_group_import_replying_to_the_file_after_a_colleague_is_mentioned_is_the_bots(push, ctx, feishu):
    feishu.files({("om_file0001", FILE_KEY): (csv(GOOD), "面试安排.csv")}, sender=PLANNER, chat_id="oc_group0001")
    mentions = [{"key": "@_user_1", "id": {"open_id": BOB}, "name": "Bob"},
                {"key": "@_user_2", "id": {"open_id": "ou_bot0000000000000000000000000000"}, "name": "assessbot"}]
    push.message("@_user_1 @_user_2 import", chat_type="group", sender=PLANNER, mentions=mentions,
                 message_id="om_ask0001", parent_id="om_file0001")
    ctx.runner.drain()
    read = [c.request.url for c in feishu.calls("GET", "/im/v1/messages/") if "/resources/" not in c.request.url]
    assert read == ["https://open.feishu.test/open-apis/im/v1/messages/om_file0001"]  # the message replied to
    assert feishu.downloads() == [f"/open-apis/im/v1/messages/om_file0001/resources/{FILE_KEY}?type=file"]
    sent = feishu.sent_cards()
    assert {s["url"] for s in sent} == {"/open-apis/im/v1/messages/om_ask0001/reply",
                                        "/open-apis/im/v1/messages?receive_id_type=open_id"}
    preview = next(s for s in sent if s["url"].endswith("open_id"))
    assert "Schedule preview: 面试安排.csv" in shown(preview["card"])
    assert json.loads(next(c.request.body for c in feishu.calls("POST", "receive_id_type")))["receive_id"] == \
        PLANNER


def test_import_that_replies_to_no_file_says_how(push, ctx, feishu):
    push.message("/import", sender=PLANNER, parent_id="")  # the documented sample is a reply: not this one
    ctx.runner.drain()
    assert "Reply to the message that holds the schedule file, and write @bot import in the reply." in \
        last(feishu)


def test_a_group_command_after_a_colleagues_mention_and_the_bots_is_carried_out(push, ctx, feishu):
    mentions = [{"key": "@_user_1", "id": {"open_id": BOB}, "name": "Bob"},
                {"key": "@_user_2", "id": {"open_id": "ou_bot0000000000000000000000000000"}, "name": "assessbot"}]
    push.message("@_user_1 @_user_2 /assess 6930815272790114324 pass", chat_type="group", mentions=mentions)
    ctx.runner.drain()
    assert feishu.patches() == [{"conclusion": 2}]


def test_the_token_of_a_push_is_checked(push):
    assert TOKEN  # the pushes above are signed and carry the Verification Token (tests/support/push.py)


def test_two_imports_pressed_at_once_import_once(push, ctx, clock, feishu, monkeypatch):
    """Both clicks find the preview waiting; the second to commit finds it importing and commits nothing."""
    preview = send(push, ctx, feishu, csv(GOOD))
    waiting = ctx.store.upload("om_file0001")
    monkeypatch.setattr(ctx.store, "upload", lambda upload_id: waiting)  # what each click read before committing
    value = buttons(preview["card"])["Import"]
    first = push.card(value, operator=PLANNER).get_json()
    second = push.card(value, operator=PLANNER).get_json()
    assert first["toast"]["i18n"]["en_us"] == "Importing; this card shows the result when done."
    assert second["toast"]["i18n"]["en_us"] == "This file is being imported."
    assert sum(1 for n in range(1, 20) if (ctx.store.job(n) or {}).get("kind") == "upload-import") == 1


def test_an_import_pressed_before_the_preview_is_recorded_imports(push, ctx, clock, feishu, monkeypatch):
    """The preview is sent, then recorded: a click between the two finds the upload received, imports it all the
    same, and the preview's record does not undo the click."""
    record, answers = ctx.store.previewed, []

    def click_first(upload_id: str, card_message_id: str | None) -> None:
        answers.append(push.card(buttons(feishu.sent_cards()[-1]["card"])["Import"], operator=PLANNER).get_json())
        record(upload_id, card_message_id)

    monkeypatch.setattr(ctx.store, "previewed", click_first)
    send(push, ctx, feishu, csv(GOOD))
    assert [a["toast"]["i18n"]["en_us"] for a in answers] == ["Importing; this card shows the result when done."]
    assert ctx.store.upload("om_file0001").state == "importing"
    clock.advance(2)
    ctx.runner.drain()
    assert [a.candidate for a in ctx.store.assignments_of(LI_NA)] == ["张伟"]
    assert "**Imported**: 2 new, 0 updated, 0 unchanged" in last(feishu)


def test_import_replying_to_a_message_with_no_file_says_so_once(push, ctx, feishu):
    feishu.api.record_user_message("om_text0001", "oc_p2p0001", PLANNER, "the schedule is attached")
    push.message("/import", sender=PLANNER, parent_id="om_text0001", message_id="om_ask0002")
    ctx.runner.drain()
    [answer] = feishu.sent_cards()
    assert "Reply to the message that holds the schedule file" in shown(answer["card"])
    assert feishu.downloads() == [] and ctx.store.upload("om_ask0002").state == "failed"
