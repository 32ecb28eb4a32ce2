"""`assessbot import FILE`, end to end: a file on disk, a real database, emails resolved through the mocked Open API."""

from __future__ import annotations

import io
import re
import shutil
import socket

import pytest

from tests.support.clock import FakeClock
from tests.support.ids import ROOT
from tests.support.imports import run_import
from tests.support.jobs import pending_work

EXAMPLE = ROOT / "config" / "schedule.example.csv"
LI_NA, CHEN_JIE, MOBILE, RECRUITING = "ou_lina0001", "ou_chenjie0001", "ou_mobile0001", "ou_recruiting0001"
KNOWN = {"li.na@example.com": LI_NA, "chen.jie@example.com": CHEN_JIE, "13800138000": MOBILE,
         "recruiting@example.com": RECRUITING}

BAD = """interview_id,interviewer,candidate,start,end,recruiter,notes
1001,li.na@example.com,张伟,2026-12-07 10:00,2026-12-07 11:00,,ok
,li.na@example.com,王芳,2026-12-07 10:00,2026-12-07 11:00,,
12 34!,li.na@example.com,王芳,2026-12-07 10:00,2026-12-07 11:00,,
1003,li na,王芳,2026-12-07 10:00,2026-12-07 11:00,,
1004,li.na@example.com,,2026-12-07 10:00,2026-12-07 11:00,,
1005,li.na@example.com,王芳,tomorrow,2026-12-07 11:00,,
1006,li.na@example.com,王芳,2026-12-07 10:00,2026-12-07 09:00,,
1007,li.na@example.com,王芳,2026-02-30 10:00,2026-02-30 11:00,,
1008,li.na@example.com,王芳,2026-12-07 10:00,2026-12-07 11:00,+86 138 0013 8000,
1001,li.na@example.com,张伟,2026-12-07 10:00,2026-12-07 11:00,,
1009,nobody@example.com,王芳,2026-12-07 10:00,2026-12-07 11:00,,
1010,li.na@example.com,王芳,2026-12-07T10:00:00+15:00,2026-12-07 11:00,,
"""


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True



def test_the_example_schedule_imports_as_is_with_emails_and_mobiles_resolved(env, store, feishu):
    feishu.people(KNOWN)
    code, out = run_import(env, str(EXAMPLE))
    assert (code, out) == (0, "schedule.example.csv: 5 new, 0 updated, 0 unchanged.\n"
                              "  schedule.example.csv：新增 5，更新 0，未变 0。\n")
    assert feishu.lookups() == [{"emails": ["chen.jie@example.com", "li.na@example.com",
                                                 "recruiting@example.com"], "mobiles": ["13800138000"]}]
    assert [(a.candidate, a.round, a.recruiter) for a in store.assignments_of(LI_NA)] == [
        ("张伟", "Technical 1", RECRUITING), ("Maria Rossi", "Hiring manager", "ou_1f6b9a0c2e3d4f5a6b7c8d9e0f1a2b3c")]
    assert store.assignments_of(MOBILE)[0].round == "Technical 2"
    # one reminder after each interview, and one refresh of the recruiter's card per candidate and end time
    assert pending_work(store) == {"pending": 9}


def test_re_importing_never_duplicates_and_counts_what_changed(env, store, feishu):
    feishu.people(KNOWN)
    run_import(env, str(EXAMPLE))
    changed = env / "changed.csv"
    text = EXAMPLE.read_text(encoding="utf-8").replace("Technical 2", "Technical 3").replace("Portfolio", "Folio")
    changed.write_text(text, encoding="utf-8")
    assert run_import(env, str(changed))[1].splitlines()[0] == "changed.csv: 0 new, 2 updated, 3 unchanged."
    assert run_import(env, str(changed))[1].splitlines()[0] == "changed.csv: 0 new, 0 updated, 5 unchanged."
    assert len(feishu.lookups()) == 1  # the people were cached
    assert pending_work(store) == {"pending": 11}  # the changed rows refresh their candidate's card, no reminder


def test_a_file_with_ten_kinds_of_bad_rows_lists_them_all_and_imports_nothing(env, store, feishu):
    feishu.people(KNOWN)
    path = env / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    code, out = run_import(env, str(path))
    assert code == 1
    assert [line for line in out.splitlines() if re.match(r"[✗!] ", line)] == [
        "! Row 1, 'notes': unknown column, ignored.",
        "✗ Row 3, 'interview_id': is empty.",
        "✗ Row 4, 'interview_id': '12 34!' is not an id (use digits, letters, _ or -).",
        "✗ Row 5, 'interviewer': 'li na' is not an open_id (ou_…), an email or a mobile number.",
        "✗ Row 6, 'candidate': is empty.",
        "✗ Row 7, 'start': 'tomorrow' is not a time; write 2026-12-01 14:00 or 2026-12-01T14:00:00+08:00.",
        "✗ Row 8, 'end': ends before the interview starts (2026-12-07 10:00).",
        "✗ Row 9, 'start': '2026-02-30 10:00' is not a real date or time.",
        "✗ Row 9, 'end': '2026-02-30 11:00' is not a real date or time.",
        "✗ Row 10, 'recruiter': '+86 138 0013 8000' is not an open_id (ou_…) or an email.",
        "✗ Row 11, 'interviewer': same interview and interviewer as row 2 (interview id 1001).",
        "✗ Row 12, 'interviewer': nobody in Feishu has the email 'nobody@example.com' (or they are outside the "
        "app's contacts range).",
        "✗ Row 13, 'start': the UTC offset +15:00 in '2026-12-07T10:00:00+15:00' is not valid (from -14:00 to "
        "+14:00, e.g. +08:00).",
    ]
    assert ("  第 12 行，“interviewer”：飞书中找不到邮箱为“nobody@example.com”的用户"
            "（或此人不在应用的通讯录权限范围内）。") in out
    assert out.endswith("bad.csv: 12 problems; nothing was imported. Fix the rows above and import again, or pass "
                        "--skip-invalid to import the rest.\n"
                        "  bad.csv：发现 12 个问题，没有导入任何内容。"
                        "请修改后重新导入，或加上 --skip-invalid 导入其余各行。\n")
    assert store.assignments_of(LI_NA) == [] and store.jobs_by_status() == {}


def test_skip_invalid_imports_the_good_rows(env, store, feishu):
    feishu.people(KNOWN)
    path = env / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    code, out = run_import(env, str(path), "--skip-invalid")
    assert code == 0
    assert out.splitlines()[-4:] == ["bad.csv: 1 new, 0 updated, 0 unchanged.", "  bad.csv：新增 1，更新 0，未变 0。",
                                     "Skipped 11 rows with problems (listed above).",
                                     "  跳过了 11 行有问题的数据（见上）。"]
    assert [a.interview_id for a in store.assignments_of(LI_NA)] == ["1001"]


def test_a_dry_run_counts_and_names_who_would_be_looked_up_without_asking_feishu(env, store, feishu):
    code, out = run_import(env, str(EXAMPLE), "--dry-run")
    assert (code, out.splitlines()) == (0, [
        "schedule.example.csv: dry run, nothing written; importing would give 5 new, 0 updated, 0 unchanged.",
        "  schedule.example.csv：试运行，未写入任何内容；若导入将会：新增 5，更新 0，未变 0。",
        "The dry run asked Feishu nothing. Importing will look up 4 people by email or mobile in Feishu (scope "
        "contact:user.id:readonly): chen.jie@example.com, li.na@example.com, recruiting@example.com, +8613800138000.",
        "  试运行没有连接飞书。正式导入时将在飞书中查询（需要 contact:user.id:readonly 权限）：chen.jie@example.com, "
        "li.na@example.com, recruiting@example.com, +8613800138000。"])
    assert len(feishu.mock.calls) == 0
    assert store.assignments_of(LI_NA) == [] and store.jobs_by_status() == {}
    assert store.people(KNOWN, 0) == {}


def test_a_dry_run_after_an_import_counts_people_the_bot_resolved_before_as_unchanged(env, store, feishu):
    feishu.people(KNOWN)
    run_import(env, str(EXAMPLE))
    calls = len(feishu.mock.calls)
    later = FakeClock()
    later.advance(30 * 86400)  # every cached lookup is stale: importing would ask again
    code, out = run_import(env, str(EXAMPLE), "--dry-run", clock=later)
    assert (code, out.splitlines()[0]) == (0, "schedule.example.csv: dry run, nothing written; importing would give "
                                              "0 new, 0 updated, 5 unchanged.")
    assert "Importing will look up 4 people" in out and len(feishu.mock.calls) == calls


def test_a_dry_run_of_open_ids_only_says_nothing_about_lookups(env, store, feishu):
    path = env / "ids.csv"
    path.write_text("interview_id,interviewer,candidate,start,end\n1,ou_a,张伟,2026-12-07 10:00,2026-12-07 11:00\n",
                    encoding="utf-8")
    assert run_import(env, str(path), "--dry-run")[1].splitlines()[2:] == []


def test_feishu_refusing_the_lookup_imports_nothing_and_names_the_scope(env, store, feishu):
    feishu.api.fault("user_ids", "no_scope")
    code, out = run_import(env, str(EXAMPLE))
    [refused] = feishu.api.calls("user_ids")
    log_id = refused["log_id"]
    assert (code, out.splitlines()) == (1, [
        "Feishu refused to look up emails and mobiles: the app lacks the contact:user.id:readonly scope (code "
        f"99991672, log id {log_id}); nothing was imported. Grant the scope, or give people as open_ids (ou_…).",
        f"  飞书拒绝查询邮箱和手机号：应用缺少 contact:user.id:readonly 权限（code 99991672, log id {log_id}），"
        "没有导入任何内容。请开通该权限，或改用 open_id（ou_…）。"])
    assert store.jobs_by_status() == {}


def test_an_unreachable_feishu_is_named_by_its_host_without_nones_or_scope_advice(env, store, feishu):
    feishu.api.fault("all", "drop", count=None)  # nothing answers at the domain
    code, out = run_import(env, str(EXAMPLE))
    assert (code, out.splitlines()) == (1, [
        "Cannot reach open.feishu.test (ConnectionError) to look up emails and mobiles; nothing was imported. Check "
        "this machine's network and FEISHU_DOMAIN, then import again.",
        "  无法连接 open.feishu.test（ConnectionError），未能查询邮箱和手机号，没有导入任何内容。"
        "请检查本机网络和 FEISHU_DOMAIN 后重新导入。"])


@pytest.mark.parametrize("where", ["postgresql", "sqlite"])
def test_a_database_that_cannot_be_used_is_one_line_and_nothing_is_imported(env, monkeypatch, where):
    if where == "postgresql":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:secret@127.0.0.1:{closed}/assessbot")
        expected = (f"assessbot import: the database postgresql://bot:***@127.0.0.1:{closed}/assessbot cannot be "
                    "reached now: Connection refused; nothing was imported\n")
    else:
        (env / "a-file").write_text("", encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{env / 'a-file' / 'assessbot.db'}")
        expected = (f"assessbot import: the SQLite database's directory {env / 'a-file'} cannot be created "
                    f"({env / 'a-file'} is a file); correct DATABASE_URL; nothing was imported\n")
    err = io.StringIO()
    assert run_import(env, str(EXAMPLE), err=err) == (1, "")
    assert err.getvalue() == expected


def test_a_large_file_shows_a_progress_bar_on_a_terminal_only(env, store, feishu):
    rows = [f"{5000 + n},ou_bulk{n:04d},候选人{n},2026-12-07 10:00,2026-12-07 11:00" for n in range(250)]
    path = env / "big.csv"
    path.write_text("interview_id,interviewer,candidate,start,end\n" + "\n".join(rows), encoding="utf-8")
    tty = Tty()
    assert run_import(env, str(path), err=tty)[0] == 0
    assert tty.getvalue().endswith(f"\r[{'#' * 30}] 250/250 importing           \n")
    plain = io.StringIO()
    assert run_import(env, str(path), err=plain)[0] == 0 and plain.getvalue() == ""


class Killed(BaseException):
    """The process dies here: nothing after it runs (not an Exception: no handler of the bot's takes it)."""


class DyingTty(Tty):
    """A terminal whose writer dies once the progress bar reaches `at`."""

    def __init__(self, at: str):
        super().__init__()
        self.at = at

    def write(self, text: str) -> int:
        if self.at in text:
            raise Killed
        return super().write(text)


def test_an_import_that_dies_half_way_leaves_none_of_the_file_and_running_it_again_imports_it_all(env, store,
                                                                                                 feishu):
    # Before, rows were written a hundred to a transaction: a kill at row 150 left 100 of them, with reminders.
    rows = [f"{5000 + n},ou_bulk{n % 7:04d},候选人{n},2026-12-07 10:00,2026-12-07 11:00" for n in range(300)]
    path = env / "big.csv"
    path.write_text("interview_id,interviewer,candidate,start,end\n" + "\n".join(rows), encoding="utf-8")
    with pytest.raises(Killed):
        run_import(env, str(path), err=DyingTty(" 150/300 importing"))
    assert [store.assignments_of(f"ou_bulk{k:04d}") for k in range(7)] == [[]] * 7
    assert pending_work(store) == {}
    code, out = run_import(env, str(path))
    assert code == 0 and "300 new" in out
    assert sum(len(store.assignments_of(f"ou_bulk{k:04d}")) for k in range(7)) == 300


def test_the_command_is_registered(env, store, capsys, feishu, tmp_path):
    from bot.cli import main

    feishu.people(KNOWN)
    copy = tmp_path / "interviews.csv"
    shutil.copy(EXAMPLE, copy)
    assert main(["import", str(copy), "--dry-run", "--env-file", str(tmp_path / "absent.env")]) == 0
    assert "interviews.csv: dry run" in capsys.readouterr().out
