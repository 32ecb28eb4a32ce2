"""`assessbot doctor`: each problem of a deployment reported on its own line, and the exit status."""

from __future__ import annotations

import argparse
import socket

import pytest

from bot.cli import doctor
from bot.feishu.connection import TOKENS
from bot.sandbox.openapi import serve
from tests.support.ids import ENCRYPT_KEY, SANDBOX_APP_ID, SANDBOX_APP_SECRET, TOKEN
from tests.support.stack import Stack

pytestmark = pytest.mark.usefixtures("bare_environment")


def configure(monkeypatch, domain: str, **extra: str) -> None:
    values = {"FEISHU_APP_ID": SANDBOX_APP_ID, "FEISHU_APP_SECRET": SANDBOX_APP_SECRET, "FEISHU_DOMAIN": domain,
              "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY, "FEISHU_VERIFICATION_TOKEN": TOKEN, **extra}
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def diagnose(url: str | None = None) -> tuple[int, list[str]]:
    lines: list[str] = []
    status = doctor.run(argparse.Namespace(url=url, env_file=None), out=lines.append)
    return status, lines


def test_missing_settings_are_each_named_and_fail():
    status, lines = diagnose()
    assert status == 1
    assert lines[:7] == ["assessbot doctor", "", "Settings (environment and .env)", "  ✗ FEISHU_APP_ID is not set",
                         "  ✗ FEISHU_APP_SECRET is not set", "  ✗ FEISHU_VERIFICATION_TOKEN is not set",
                         "  ✗ FEISHU_ENCRYPT_KEY is not set"]
    assert "  · credentials not checked: FEISHU_APP_ID and FEISHU_APP_SECRET are needed" in lines
    assert any(line.startswith("  ✓ sqlite:///") and line.endswith("doctor.db: connected, tables ready")
               for line in lines)  # what does not need the credentials is still checked
    assert lines[-1] == "4 problems found (✗ above)."


def test_an_unreachable_domain_is_told_apart_from_refused_credentials(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    configure(monkeypatch, f"http://127.0.0.1:{closed}")
    status, lines = diagnose()
    assert status == 1
    assert f"  ✗ cannot reach http://127.0.0.1:{closed} (ConnectionError): check FEISHU_DOMAIN and this machine's " \
           "network" in lines
    assert lines[-1] == "1 problem found (✗ above)."


def test_refused_credentials_say_the_code(monkeypatch):
    with serve() as openapi:
        configure(monkeypatch, openapi.url, FEISHU_APP_SECRET="wrong")
        status, lines = diagnose()
    assert status == 1
    assert "  ✗ Feishu refused the credentials: code 10014 (app secret invalid); check FEISHU_APP_ID and " \
           "FEISHU_APP_SECRET against Credentials & Basic Info (凭证与基础信息)" in lines
    assert any(line.startswith("  ✗ Credentials & Basic Info") for line in lines)


def test_a_bad_rubric_is_named_with_its_file_and_entry(monkeypatch, tmp_path):
    bad = tmp_path / "rubric.toml"
    bad.write_text('[[dimensions]]\nkey = "coding"\ntitle = "编码"\ntype = "score"\nmin = 5\nmax = 1\n',
                   encoding="utf-8")
    with serve() as openapi:
        configure(monkeypatch, openapi.url, ASSESSBOT_RUBRIC=str(bad))
        status, lines = diagnose()
    assert status == 1
    assert lines[lines.index("Rubric") + 1] == f"  ✗ {bad}: dimension #1 ('coding'): min (5) is greater than max (1)"


def test_a_good_deployment_passes_every_check_it_can_make(monkeypatch, database_url):
    stack = Stack(database_url)  # the bot answering on a URL, with the same keys, and its Open API
    try:
        configure(monkeypatch, stack.openapi.url)
        status, lines = diagnose(stack.url)
    finally:
        stack.close()
    assert status == 0, "\n".join(lines)
    assert "  ✓ every setting is present and valid" in lines
    assert "  ✓ tenant token issued for cli_sandbox" in lines
    assert "  ✓ the bot is enabled; its open_id is ou_bot0000000000000000000000000000" in lines
    assert any(line.startswith("  ✓ answers Feishu's URL check with these keys in ") for line in lines)
    assert any(line.endswith("rubric.toml: 6 dimensions (coding, design, communication, level, strengths, notes)")
               for line in lines)
    checklist = lines[lines.index(next(x for x in lines if x.startswith("Developer console"))) + 1:]
    assert [line[:3] for line in checklist[:9]] == ["  ✓", "  ✓", "  ·", "  ·", "  ·", "  ·", "  ·", "  ·", "  ·"]
    assert checklist[7] == ("  · Events & Callbacks → Encryption Strategy (事件与回调 → 加密策略): the Encrypt Key and "
                            "Verification Token there are the values of FEISHU_ENCRYPT_KEY / FEISHU_VERIFICATION_TOKEN "
                            "(set here; only the console shows its own)")
    assert f"request URL {stack.url}/feishu/events; subscribe to card.action.trigger" in checklist[9]
    assert lines[-1] == "Everything that could be checked from here is fine; tick the · items off by hand."


def test_a_url_with_other_keys_is_reported(monkeypatch, database_url):
    stack = Stack(database_url)
    try:
        configure(monkeypatch, stack.openapi.url, FEISHU_ENCRYPT_KEY="another key")
        status, lines = diagnose(stack.url)
    finally:
        stack.close()
    assert status == 1
    assert "  ✗ the bot there refused the challenge (401): its FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN " \
           "differs from these settings" in lines


def test_with_a_schedule_the_scopes_it_needs_are_tried(monkeypatch, tmp_path):
    from bot.sandbox.openapi import FakeOpenAPI
    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 'doctor.db'}")
    store.create_schema()
    row = {"interview_id": "6960000000000000001", "interviewer": "ou_alice", "candidate": "张三", "start_at": 1.0,
           "end_at": 2.0}
    store.upsert_assignments([row], lambda after, before: (None, []))
    store.dispose()
    api = FakeOpenAPI()
    api.fault("user_ids", "no_scope")
    with serve(api=api) as openapi:
        configure(monkeypatch, openapi.url)
        status, lines = diagnose()
        assert status == 0, "\n".join(lines)
        schedule = lines[lines.index("Schedule") + 1:lines.index("Schedule") + 3]
        assert schedule == ["  ✓ hire:external_application: interviews read back (creating a missing assessment "
                            "needs the same scope)",
                            "  · contact:user.id:readonly is not granted: give interviewers and recruiters as open_ids "
                            "(ou_…), or add the scope to name them by email or mobile"]
        api.fault("interviews", "no_scope")
        TOKENS.forget()
        status, lines = diagnose()
    assert status == 1
    assert any(line.startswith("  ✗ hire:external_application: reading interview 6960000000000000001 failed: "
                               "code 99991672") for line in lines)


def test_without_url_the_request_url_is_said_to_be_unchecked_and_made_up_keys_get_no_tick(monkeypatch):
    with serve() as openapi:
        configure(monkeypatch, openapi.url, FEISHU_ENCRYPT_KEY="made-up", FEISHU_VERIFICATION_TOKEN="made-up too")
        status, lines = diagnose()
    assert status == 0
    assert lines[lines.index("Request URL") + 1] == ("  · not checked: run again with --url https://<your host> to "
                                                     "send Feishu's URL check to the running bot")
    assert not [line for line in lines if line.startswith("  ✓") and "Encrypt Key" in line]


def test_a_database_that_does_not_exist_is_named_in_one_line(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a-file' / 'x.db'}")
    with serve() as openapi:
        configure(monkeypatch, openapi.url)
        status, lines = diagnose()
    assert status == 1
    assert lines[lines.index("Database") + 1:lines.index("Database") + 3] == [
        f"  ✗ the SQLite database's directory {tmp_path / 'a-file'} cannot be created ({tmp_path / 'a-file'} is a "
        "file); correct DATABASE_URL", ""]


def test_without_a_schedule_no_schedule_check_is_made(monkeypatch):
    with serve() as openapi:
        configure(monkeypatch, openapi.url)
        _, lines = diagnose()
    assert "Schedule" not in lines


def test_the_forms_scope_is_tried_and_every_mapping_or_schedule_row_naming_a_missing_form_is_named(monkeypatch,
                                                                                                tmp_path):
    from bot.sandbox.openapi import FakeOpenAPI
    from bot.store import Store

    (tmp_path / "forms.toml").write_text('[[map]]\njob = "销售*"\nform = "销售岗位面评表"\n\n'
                                         '[[map]]\nround = "终面"\nform = "终面评价表"\n', encoding="utf-8")
    monkeypatch.setenv("ASSESSBOT_FORMS", str(tmp_path / "forms.toml"))
    store = Store(f"sqlite:///{tmp_path / 'doctor.db'}")
    store.create_schema()
    row = {"interview_id": "6960000000000000001", "interviewer": "ou_alice", "candidate": "张三", "start_at": 1.0,
           "end_at": 2.0, "form": "7400000000000099999"}
    store.upsert_assignments([row], lambda after, before: (None, []))
    store.dispose()
    api = FakeOpenAPI()
    with serve(api=api) as openapi:
        configure(monkeypatch, openapi.url)
        status, lines = diagnose()
        forms = lines[lines.index("Feedback forms (Feishu Hire)") + 1:lines.index("Feedback forms (Feishu Hire)") + 5]
        api.fault("forms", "no_scope")
        TOKENS.forget()
        _, without = diagnose()
    assert status == 1
    assert forms == [
        f"  ✓ {tmp_path / 'forms.toml'}: 2 mapping rules",
        "  ✓ hire:interview:readonly: 3 feedback forms in Feishu Hire: 工程师面试评价表, 销售岗位面评表, HR 面试评价表",
        f"  ✗ {tmp_path / 'forms.toml'} [[map]] #2 (job '*', round '终面') names the form '终面评价表', which "
        "Feishu Hire does not have: those interviews use the local rubric",
        "  ✗ 1 interview of the schedule names the form '7400000000000099999', which Feishu Hire does not have: "
        "import them again with a form that exists (an interview already opened keeps the version it had)"]
    assert ("  · hire:interview:readonly is not granted: every interview uses the local rubric (add the scope to use "
            "the tenant's own feedback forms from Feishu Hire)") in without


def test_each_followed_bitable_is_read_and_a_base_not_shared_says_how_to_share_it(monkeypatch):
    from bot.sandbox.openapi import FakeOpenAPI

    api = FakeOpenAPI()
    names = ("面试ID", "面试官", "候选人", "开始时间", "结束时间", "面评状态")
    fields = [{"field_name": name, "type": 1} for name in names]
    api.put_table("bascnGood", "tblGood", fields, {"rec1": {"面试ID": "1"}})
    api.put_table("bascnShort", "tblShort", fields[:3], {})
    api.put_table("bascnClosed", "tblClosed", fields, {}, shared=False)
    links = " ".join(f"https://x.feishu.cn/base/bascn{name}?table=tbl{name}" for name in ("Good", "Short", "Closed"))
    with serve(api=api) as running:
        configure(monkeypatch, running.url, ASSESSBOT_SCHEDULE_BITABLE=links)
        status, lines = diagnose()
    section = lines[lines.index("Followed Bitables (ASSESSBOT_SCHEDULE_BITABLE)") + 1:][:5]
    assert status == 1
    assert section == [
        "  ✓ table tblGood: readable (1 record on the first page); columns 面试ID, 面试官, 候选人, 开始时间, 结束时间",
        "  · table tblGood: the state is written to '面评状态', which needs the scope bitable:app (not tried: it "
        "would write)",
        "  ✗ table tblShort: readable, but the required columns start, end (or the Chinese names) are missing",
        "  · table tblShort: no status column (面评状态 or feedback status): each row's state is not written back",
        "  ✗ table tblClosed: Feishu refused to read the table (code 91403, log id "
        f"{api.calls('fields')[-1]['log_id']}): the base is not shared with the app. To share it, in the base, open "
        "… → More → Add document app (… → 更多 → 添加文档应用) and add this app (you must be the base's owner or a "
        "manager; with advanced permissions on, give the app manage permission), or add a group the bot is in as a "
        "collaborator."]
