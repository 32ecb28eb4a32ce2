"""A small schedule for the sandbox's interviewer, so the whole flow shows at once: an interview that ended two
hours ago (its reminder is due now), one later today, and one already submitted; each uses one of the sandbox's
Hire feedback forms (engineering by its name in the schedule, sales by the mapping in config/forms.example.toml,
HR by its name), read from the local Open API first as the bot reads them."""

from __future__ import annotations

from pathlib import Path

from bot import rubric
from bot.forms.catalogue import Catalogue
from bot.schedule.planner import Planner
from bot.settings import Settings
from bot.store import Store

WORK_HOURS, WORK_DAYS = "00:00-24:00", "1-7"  # the sandbox works around the clock: a reminder shows whenever
FORMS_MAP = Path(__file__).resolve().parents[2] / "config" / "forms.example.toml"  # the sandbox's ASSESSBOT_FORMS
RECRUITER = "ou_sandboxrecruiter00000000000000000"
HOUR = 3600.0
ENGINEERING, SALES, HR = "工程师面试评价表", "销售岗位面评表", "HR 面试评价表"  # bot/sandbox/openapi/forms.py


def schedule(interviewer: str, now: float, forms: dict[str, str] | None = None) -> list[dict]:
    """The three seeded interviews, relative to `now`; `forms`: the forms known, by name (none: no forms)."""
    forms = forms or {}

    def interview(number: str, candidate: str, job: str, round_: str, end: float, form: str | None) -> dict:
        return {"interview_id": f"69600000000000000{number}", "interviewer": interviewer, "candidate": candidate,
                "position": job, "round": round_, "start_at": end - HOUR, "end_at": end, "recruiter": RECRUITER,
                "application_id": f"69700000000000000{number}", "form": forms.get(form or "")}

    # one language a field, as a tenant's own data is (the cards around it speak the reader's)
    return [interview("01", "张伟", "后端工程师", "一面", now - 2 * HOUR, ENGINEERING),
            interview("02", "李娜", "销售经理", "二面", now + 3 * HOUR, None),
            interview("03", "王芳", "数据分析师", "HR 面", now - 26 * HOUR, HR)]


def form_names(store: Store, settings: Settings) -> dict[str, str]:
    """The sandbox forms the bot's database knows (a schedule names them by name)."""
    forms = Catalogue(store, rubric.load(settings.assessbot_rubric))
    return {name: name for name in (ENGINEERING, SALES, HR) if (found := forms.find(name)) is not None and found.hire}


def seed(settings: Settings, interviewer: str, now: float) -> bool:
    """Put the schedule in the bot's database unless it is there; True when it was seeded.

    The submitted one is created in the local Open API first (as the bot would on a first submission).
    """
    store = Store(settings.database_url, lambda: now)
    try:
        from bot.feishu.client import Feishu  # only a fresh sandbox needs the SDK here
        from bot.forms.sync import sync

        feishu = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain, timeout=5)
        sync(store, feishu, rubric.load(settings.assessbot_rubric))  # as the bot does at start, but before the rows
        rows = schedule(interviewer, now, form_names(store, settings))
        if store.find_assignments(rows[0]["interview_id"]):  # (the followed table's interviews are not these)
            return False
        store.upsert_assignments(rows[:2], Planner(settings, now))
        store.upsert_assignments(rows[2:], lambda after, before: (None, []))  # submitted: nothing to remind of
        done = store.find_assignments(rows[2]["interview_id"])[0]
        created = feishu.create_assessment({"external_interview_id": done.interview_id, "external_id": done.external_id,
                                            "username": "Sandbox Interviewer", "conclusion": 2,
                                            "content": "沟通清晰，回答有条理。"})
        store.learn_feishu_id(done.key, created.data["external_interview_assessment"]["id"])
        store.update_assignment(done.id, submitted_at=now - 24 * HOUR, remind_at=None, first_reminded_at=None)
        return True
    finally:
        store.dispose()


APPLICATION = "sandbox-app-1"
COLLEAGUES = ("ou_sandbox_interviewer_li00000000000", "ou_sandbox_interviewer_wang000000000",
              "ou_sandbox_interviewer_zhao000000000")


def panel_rows(recruiter: str, now: float, forms: dict[str, str] | None = None) -> list[dict]:
    """Three interviews of one candidate by colleagues, the first ending in two hours, one an hour after another:
    /panel shows them at once; the progress card comes when the first one ends. Two technical rounds use the
    engineering form and the last the HR form (when the forms are known)."""
    forms = forms or {}
    ends = (now + 2 * HOUR, now + 3 * HOUR, now + 4 * HOUR)
    return [{"interview_id": f"{APPLICATION}-i{n}", "interviewer": who, "candidate": "陈静",
             "position": "后端工程师", "round": f"第{n + 1}轮", "start_at": end - HOUR, "end_at": end,
             "recruiter": recruiter,
             "application_id": APPLICATION, "feishu_assessment_id": f"69300000000000000{n + 1:02d}",
             "form": forms.get(HR if n == 2 else ENGINEERING)}
            for n, (who, end) in enumerate(zip(COLLEAGUES, ends, strict=True))]


def seed_panel(settings: Settings, recruiter: str, now: float) -> bool:
    """Put a candidate's panel, with the person at the console as its recruiter, unless it is there."""
    store = Store(settings.database_url, lambda: now)
    try:
        store.create_schema()
        if store.application(APPLICATION):
            return False
        store.upsert_assignments(panel_rows(recruiter, now, form_names(store, settings)), Planner(settings, now))
        return True
    finally:
        store.dispose()


# A small Bitable the sandbox's bot follows (ASSESSBOT_SCHEDULE_BITABLE): two interviews of the person at the console,
# later today and tomorrow (the seeded reminder above stays the one on screen); `:table` in the console shows each
# row's 面评状态, which the bot writes back: 等待反馈 (waiting), then 已提交（通过） once
# `/assess 6980000000000000001 pass` is sent.
TABLE_APP, TABLE_ID = "bascnSandboxSchedule00000001", "tblSandboxSchedule"
TABLE_FIELDS = [{"field_name": "面试ID", "type": 1}, {"field_name": "面试官", "type": 11},
                {"field_name": "候选人", "type": 1}, {"field_name": "职位", "type": 3},
                {"field_name": "轮次", "type": 3}, {"field_name": "开始时间", "type": 5},
                {"field_name": "结束时间", "type": 5}, {"field_name": "状态", "type": 3},
                {"field_name": "面评状态", "type": 1}]


def table_url(openapi_url: str) -> str:
    """The link the bot follows (the local Open API's host; only the path and query name the table)."""
    return f"{openapi_url}/base/{TABLE_APP}?table={TABLE_ID}"


def table_records(interviewer: str, name: str, now: float) -> dict[str, dict]:
    """The table's rows, in Bitable's value shapes: text segments, a person field, millisecond dates."""
    def row(number: str, candidate: str, job: str, round_: str, end: float) -> dict:
        return {"面试ID": [{"type": "text", "text": f"69800000000000000{number}"}],
                "面试官": [{"id": interviewer, "name": name}], "候选人": [{"type": "text", "text": candidate}],
                "职位": job, "轮次": round_, "开始时间": int((end - HOUR) * 1000), "结束时间": int(end * 1000)}

    return {"recSandbox01": row("01", "赵敏 Zhao Min", "前端工程师 Frontend Engineer", "一面 Round 1",
                                now + 2 * HOUR),
            "recSandbox02": row("02", "周杰 Zhou Jie", "测试工程师 QA Engineer", "二面 Round 2", now + 24 * HOUR)}


def contacts(interviewer: str) -> dict[str, str]:
    """The people config/schedule.example.csv names, as the contact directory finds them (li.na is you), so
    `:send config/schedule.example.csv` previews rows without problems."""
    return {"li.na@example.com": interviewer, "chen.jie@example.com": COLLEAGUES[0], "13800138000": COLLEAGUES[1],
            "recruiting@example.com": RECRUITER}
