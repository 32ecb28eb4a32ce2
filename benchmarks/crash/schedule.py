"""The crash test's schedule run: schedules come in by every door while processes are SIGKILLed, and what the bot
then tells people, creates and writes back is counted.

The bot runs with its jobs in separate `assessbot worker` processes (web workers run none), working around the
clock, reminding as soon as an interview ends. Before it starts, some interviews are already five working days
overdue (their digest escalates them). Then, at once:

  - a schedule of `interviews` (≥ 200) interviews is imported: two fifths through the intake API (one request
    per schedule of 40, repeated until it is answered 200), two fifths by `assessbot import` of one file (run
    again until it exits 0), a fifth as a file the recruiter sends the bot in chat (Import pressed on its preview,
    delivered twice); a followed Bitable holds more. Most interviews ended two hours ago (people with four of them hear
    of them in one digest, people with two by a reminder each), some end while the run goes on;
  - interviewers send /assess for some of the imported interviews that Feishu has no assessment for (the bot
    creates one, then writes it), each delivered twice;
  - the recruiter's progress cards are sent and brought up to date as interviews end and feedback comes in;
  - random web workers, separate workers and import processes get SIGKILL (a killed worker is started again).

Once every job due by then is settled, the invariants are counted:

  - each ended interview that is still open was named by exactly one message (a reminder or a digest line);
  - at most one digest per person per day; each overdue interview escalated by exactly one message;
  - one assessment created per assignment, holding the last command; one confirmation per command;
  - every import wholly applied (and how often a kill left one half-applied before it was run again); the file
    also holds `ahead` interviews a month ahead, so that its import writes for a while and kills land in it;
  - one progress card per application and recruiter; the followed table's status column as the bot's state;
  - no job pending, running or dead.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from benchmarks.crash.harness import ASSESSBOT, drain, start_worker, summary_table
from benchmarks.crash.plan import APP_ID, ENCRYPT_KEY, TOKEN, bot_env
from bot.sandbox import processes, push
from bot.sandbox.openapi.process import OpenAPIProcess
from bot.sandbox.processes import Gunicorn
from bot.sandbox.push import deliver

ZONE = ZoneInfo("Asia/Shanghai")
INTAKE = "crash-intake-token-0123456789"
RECRUITER = "ou_crashrecruiter00000000000000000"
TABLE_APP, TABLE_ID = "bascnCrashSchedule0000000001", "tblCrashSchedule"
TABLE_FIELDS = [{"field_name": "面试ID", "type": 1}, {"field_name": "面试官", "type": 11},
                {"field_name": "候选人", "type": 1}, {"field_name": "开始时间", "type": 5},
                {"field_name": "结束时间", "type": 5}, {"field_name": "面评状态", "type": 1}]
STATUS = {"waiting": "等待反馈", "reminded": "已提醒", "overdue": "已逾期", "submitted": "已提交"}
BATCH = 40  # interviews per intake request
STUCK_AFTER = 60.0  # a job still waiting this long after it came due (or its runner's lease ended) is stuck
DOORS = ("intake", "file", "chat", "intake", "file")  # by person, so each door gets people of every size
IMPORT_KILLS = 3  # at most: the import must also get through, and the killing goes on for a minute or two


@dataclass
class ScheduleConfig:
    """The size of one schedule run."""

    interviews: int = 240  # through the intake API and `assessbot import`; the followed table holds 24 more
    kills: int = 100
    database: str = "sqlite"
    instances: int = 1
    commands: int = 30
    seconds: float = 90.0  # how long the killing goes on, at least
    ahead: int = 6000  # interviews a month ahead in the imported file: its writing lasts long enough to be killed in
    seed: int = 1
    drain_timeout: float = 300.0


@dataclass
class ScheduleSummary:
    database: str
    processes: str
    interviews: int = 0
    kills: dict = field(default_factory=dict)
    announced: int = 0
    announced_missing: int = 0
    announced_twice: int = 0
    digests_max_per_person_day: int = 0
    escalations: int = 0
    escalations_wrong: int = 0
    created: int = 0
    create_calls: int = 0
    created_wrong: int = 0
    final_mismatches: int = 0
    confirmations_missing: int = 0
    confirmations_duplicated: int = 0
    imports_incomplete: int = 0
    imports_half_seen: int = 0
    ahead: int = 0
    import_runs: int = 0
    chat_imports: int = 0  # 1 once Import was pressed on the chat's preview
    import_kills_at: list = field(default_factory=list)  # seconds into the killed import run, each
    import_run_s: float = 0.0  # how long the run that completed took
    intake_posts: int = 0
    panels: int = 0
    panels_wrong: int = 0
    table_rows: int = 0
    table_wrong: int = 0
    stuck_jobs: int = 0
    dead_jobs: int = 0
    duration_s: float = 0.0
    problems: list = field(default_factory=list)

    def table(self) -> str:
        rows = [("database", f"{self.database} ({self.processes})"),
                ("interviews imported (+ followed table; + a month ahead)",
                 f"{self.interviews} (+ {self.table_rows}; + {self.ahead})"),
                ("SIGKILLs", ", ".join(f"{k} {v}" for k, v in self.kills.items()) or 0),
                ("intake requests / import runs / chat imports", f"{self.intake_posts} / {self.import_runs} / "
                                                                  f"{self.chat_imports}"),
                ("import kills, seconds into the run (the run that completed)",
                 f"{len(self.import_kills_at)}: {', '.join(f'{t:.1f}' for t in self.import_kills_at) or '-'} "
                 f"({self.import_run_s:.1f} s)"),
                ("interviews announced (missing / twice)", f"{self.announced} ({self.announced_missing} / "
                                                           f"{self.announced_twice})"),
                ("digests per person per day, at most", self.digests_max_per_person_day),
                ("escalations (not exactly one)", f"{self.escalations} ({self.escalations_wrong})"),
                ("assessments created (create calls; not one)", f"{self.created} ({self.create_calls}; "
                                                                 f"{self.created_wrong})"),
                ("final mismatches", self.final_mismatches),
                ("confirmations missing / duplicated", f"{self.confirmations_missing} / "
                                                       f"{self.confirmations_duplicated}"),
                ("imports not wholly applied (half-applied seen after a kill)",
                 f"{self.imports_incomplete} ({self.imports_half_seen})"),
                ("progress cards (not one per application)", f"{self.panels} ({self.panels_wrong})"),
                ("table statuses wrong", f"{self.table_wrong} of {self.table_rows}"),
                ("stuck / dead jobs", f"{self.stuck_jobs} / {self.dead_jobs}"),
                ("duration", f"{self.duration_s:.1f} s")]
        return summary_table(rows, self.problems)


@dataclass
class Interview:
    interview_id: str
    interviewer: str
    candidate: str
    end: float
    door: str  # intake, file, table, seeded, ahead (in the file, a month ahead)
    application: str | None = None
    command: str | None = None  # the /assess comment sent for it, if any


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, ZONE)


class ScheduleRun:
    """One schedule run against one database."""

    def __init__(self, config: ScheduleConfig, workdir: Path, database_url: str, label: str):
        self.config, self.workdir, self.database_url = config, workdir, database_url
        self.rng = random.Random(config.seed)
        self.summary = ScheduleSummary(label, f"{config.instances} × 2 web workers + {config.instances} worker")
        self.kills: Counter = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.start_at = time.time()
        self.web: list[Gunicorn] = []
        self.workers: list[subprocess.Popen] = []
        self.importing: subprocess.Popen | None = None
        self.import_started = 0.0
        self.half_seen = 0
        self.plan_interviews()

    # -- the plan --------------------------------------------------------------------------------------------

    def plan_interviews(self) -> None:
        now, rng, n = self.start_at, self.rng, self.config.interviews
        ago = now - 2 * 3600
        self.interviews: list[Interview] = []
        person = 0
        while len(self.interviews) < n:  # people with 4 (a digest), 2 (two reminders) or 1 ending later
            size = (4, 2, 1)[person % 3]
            who = f"ou_crashp{person:026d}"
            for k in range(size):
                end = ago - 60 * k if size > 1 else now + rng.uniform(10, self.config.seconds * 0.6)
                number = len(self.interviews)
                self.interviews.append(Interview(f"{7_500_000_000_000_000_000 + number}", who, f"候选人{number:04d}",
                                                 end, DOORS[person % len(DOORS)],
                                                 application=f"app{number // 2:05d}"))
            person += 1
        self.interviews = self.interviews[:n]
        for k in range(24):  # the followed table: six people with four interviews each, ended two hours ago
            number = 10_000 + k
            self.interviews.append(Interview(f"{7_500_000_000_000_000_000 + number}", f"ou_crasht{k // 4:026d}",
                                             f"表格候选人{k:02d}", ago - 60 * (k % 4), "table"))
        for k in range(10):  # five working days overdue already: their digest tells the recruiter
            number = 20_000 + k
            self.interviews.append(Interview(f"{7_500_000_000_000_000_000 + number}", f"ou_crashe{k // 2:026d}",
                                             f"逾期候选人{k:02d}", now - 9 * 86400 - 60 * k, "seeded"))
        for k in range(self.config.ahead):  # in the file too: nobody hears of them during the run
            number = 100_000 + k
            self.interviews.append(Interview(f"{7_500_000_000_000_000_000 + number}", f"ou_crasha{k % 40:026d}",
                                             f"远期候选人{k:05d}", now + 30 * 86400 + 60 * k, "ahead"))
        # /assess for interviews of people with two (told by reminders), each its own assignment and assessment
        pairs = [i for i in self.interviews if i.door in ("intake", "file") and i.end < now
                 and sum(j.interviewer == i.interviewer for j in self.interviews) == 2]
        for k, interview in enumerate(rng.sample(pairs, min(self.config.commands, len(pairs)))):
            interview.command = f"crash run note {k}"

    def row(self, i: Interview) -> dict:
        return {"interview_id": i.interview_id, "interviewer": i.interviewer, "candidate": i.candidate,
                "start": _when(i.end - 3600).isoformat(), "end": _when(i.end).isoformat(),
                "recruiter": RECRUITER, "application_id": i.application}

    # -- the run ---------------------------------------------------------------------------------------------

    def run(self) -> ScheduleSummary:
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            self.api = stack.enter_context(OpenAPIProcess(self.workdir, patch_rate_limit=20))
            self.seed_table()
            env = bot_env(self.api.url, self.database_url)
            env.update(ASSESSBOT_INTAKE_TOKEN=INTAKE, ASSESSBOT_WORK_HOURS="00:00-24:00", ASSESSBOT_WORK_DAYS="1-7",
                       ASSESSBOT_REMIND_AFTER_MINUTES="0", ASSESSBOT_SCHEDULE_SYNC_MINUTES="1",
                       ASSESSBOT_SCHEDULE_BITABLE=f"{self.api.url}/base/{TABLE_APP}?table={TABLE_ID}",
                       ASSESSBOT_ADMINS=RECRUITER)
            self.env = env
            self.seed_overdue()
            web_env = {**env, "ASSESSBOT_RUNNER_THREADS": "0"}
            for n in range(self.config.instances):
                self.web.append(stack.enter_context(Gunicorn(web_env, self.workdir, f"web{n + 1}")))
            for n in range(self.config.instances):
                self.workers.append(self.start_worker(n))
            stack.callback(lambda: [processes.stop_group(w) for w in self.workers])
            killer = threading.Thread(target=self.kill, name="killer")
            killer.start()
            try:
                imports = [threading.Thread(target=self.intake, name="intake"),
                           threading.Thread(target=self.import_file, name="import")]
                doors = [*imports, threading.Thread(target=self.chat, name="chat"),
                         threading.Thread(target=self.commands, args=(imports,), name="commands")]
                for thread in doors:
                    thread.start()
                for thread in doors:
                    thread.join()
                last = max(i.end for i in self.interviews if i.door != "ahead")
                until = self.start_at + max(self.config.seconds, last - self.start_at + 5)
                while time.time() < until or sum(self.kills.values()) < self.config.kills:
                    time.sleep(0.5)
            finally:
                self.stop.set()
                killer.join()
            self.drain()
            self.summary.duration_s = time.monotonic() - started
            self.check()
        return self.summary

    def start_worker(self, n: int) -> subprocess.Popen:
        return start_worker(self.workdir, self.env, n)

    def seed_table(self) -> None:
        records = {}
        for k, i in enumerate(x for x in self.interviews if x.door == "table"):
            records[f"recCrash{k:04d}"] = {
                "面试ID": [{"type": "text", "text": i.interview_id}], "面试官": [{"id": i.interviewer, "name": ""}],
                "候选人": [{"type": "text", "text": i.candidate}], "开始时间": int((i.end - 3600) * 1000),
                "结束时间": int(i.end * 1000)}
        self.api_admin("POST", "/_sandbox/bitable", {"app_token": TABLE_APP, "table_id": TABLE_ID,
                                                     "fields": TABLE_FIELDS, "records": records, "shared": True})

    def api_admin(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = requests.request(method, self.api.url + path, json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def seed_overdue(self) -> None:
        """Interviews first reminded nine days ago, their digest due now (it escalates them)."""
        from bot.contract import Digest, NewJob
        from bot.store import Store

        store = Store(self.database_url)
        try:
            seeded = [i for i in self.interviews if i.door == "seeded"]
            rows = [{"interview_id": i.interview_id, "interviewer": i.interviewer, "candidate": i.candidate,
                     "start_at": i.end - 3600, "end_at": i.end, "recruiter": RECRUITER} for i in seeded]
            people = sorted({i.interviewer for i in seeded})
            store.upsert_assignments(rows, lambda after, before: (None, []))
            for i in seeded:
                for a in store.assignments_of(i.interviewer):
                    store.update_assignment(a.id, first_reminded_at=i.end + 3600)
            store.accept([], [NewJob(Digest(person=p)) for p in people])
        finally:
            store.dispose()

    # -- the doors -------------------------------------------------------------------------------------------

    def intake(self) -> None:
        rows = [self.row(i) for i in self.interviews if i.door == "intake"]
        batches = [rows[k:k + BATCH] for k in range(0, len(rows), BATCH)]
        session = requests.Session()
        for batch in batches:
            while not self.stop.is_set():
                web = self.rng.choice(self.web)
                with self.lock:
                    self.summary.intake_posts += 1
                try:
                    answer = session.post(f"{web.url}/api/interviews", json=batch, timeout=30,
                                          headers={"Authorization": f"Bearer {INTAKE}"})
                    if answer.status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)

    def schedule_csv(self, doors: tuple[str, ...]) -> str:
        """The interviews of these doors as a schedule file a recruiter would write."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["面试ID", "面试官", "候选人", "开始时间", "结束时间", "招聘负责人", "投递ID"])
        for i in self.interviews:
            if i.door in doors:
                writer.writerow([i.interview_id, i.interviewer, i.candidate,
                                 _when(i.end - 3600).strftime("%Y-%m-%d %H:%M:%S"),
                                 _when(i.end).strftime("%Y-%m-%d %H:%M:%S"), RECRUITER, i.application])
        return out.getvalue()

    def import_file(self) -> None:
        path = self.workdir / "schedule.csv"
        path.write_text(self.schedule_csv(("file", "ahead")), encoding="utf-8")
        while not self.stop.is_set():
            with self.lock:
                self.summary.import_runs += 1
                self.import_started = time.monotonic()
                self.importing = processes.start([ASSESSBOT, "import", str(path)],
                                                 self.workdir / "import.log", env=self.env, cwd=self.workdir,
                                                 append=True)
            code = self.importing.wait()
            with self.lock:
                self.importing = None
            if code == 0:
                self.summary.import_run_s = time.monotonic() - self.import_started
                return
            time.sleep(0.2)

    def chat(self) -> None:
        """The recruiter sends a schedule file to the bot, waits for its preview and presses Import (delivered
        twice, as a double click or Feishu's redelivery would)."""
        message_id, chat_id = "om_crashfile0000000000000000000", "oc_" + RECRUITER[3:]
        file_key = self.api_admin("POST", "/_sandbox/files", {
            "message_id": message_id, "chat_id": chat_id, "sender": RECRUITER, "file_name": "面试安排.csv",
            "content_b64": base64.b64encode(self.schedule_csv(("chat",)).encode("utf-8")).decode()})["file_key"]
        payload = push.message_event("", token=TOKEN, sender=RECRUITER, chat_id=chat_id, message_id=message_id,
                                     event_id="ev_crashfile00000000000000", app_id=APP_ID, message_type="file",
                                     content={"file_key": file_key, "file_name": "面试安排.csv"})
        self.deliver(payload)
        preview = None
        while preview is None and not self.stop.wait(0.5):
            for m in self.api.messages():
                values = [v for v in _button_values(m.get("card")) if isinstance(v, dict) and v.get("a") == "import"]
                if m["sender"] == "app" and m.get("parent_id") == message_id and values:
                    preview = (m["message_id"], values[0])
        if preview is None:
            return
        for copy in range(2):
            token = self.api_admin("POST", "/_sandbox/callback_tokens", {"message_id": preview[0]})["token"]
            self.deliver(push.card_action(preview[1], None, token=TOKEN, operator=RECRUITER, message_id=preview[0],
                                          chat_id=chat_id, callback_token=token, app_id=APP_ID,
                                          event_id=f"ev_crashimport{copy:019d}"))
        with self.lock:
            self.summary.chat_imports = 1

    def deliver(self, payload: dict) -> None:
        """Until a web worker answers 200 (or the run stops)."""
        while not self.stop.is_set():
            status, _ = deliver(self.rng.choice(self.web).url, payload, ENCRYPT_KEY)
            if status == 200:
                return
            time.sleep(0.2)

    def commands(self, imports: list[threading.Thread]) -> None:
        """/assess for some imported interviews, each delivered twice (the second copy a little later), once the
        imports that hold them are in (before, the bot would rightly answer that it knows no such interview)."""
        for thread in imports:
            thread.join()
        for n, i in enumerate(x for x in self.interviews if x.command):
            text = f'/assess {i.interview_id} pass coding=4 comment="{i.command}"'
            payload = push.message_event(text, token=TOKEN, sender=i.interviewer, chat_id="oc_" + i.interviewer[3:],
                                         message_id=f"om_sched{n:027d}", event_id=f"ev_sched{n:024d}",
                                         app_id=APP_ID)
            for _copy in range(2):
                while not self.stop.is_set():
                    status, _ = deliver(self.rng.choice(self.web).url, payload, ENCRYPT_KEY)
                    if status == 200:
                        break
                    time.sleep(0.2)
            time.sleep(self.rng.uniform(0.05, 0.3))

    # -- the killer ------------------------------------------------------------------------------------------

    def kill(self) -> None:
        interval = self.config.seconds / max(self.config.kills, 1)
        while not self.stop.wait(self.rng.uniform(0.5, 1.5) * interval):
            roll = self.rng.random()
            with self.lock:
                importing = self.importing
            if importing is not None and self.kills["import"] < IMPORT_KILLS and roll < 0.5:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(importing.pid, signal.SIGKILL)
                    self.kills["import"] += 1
                    self.summary.import_kills_at.append(time.monotonic() - self.import_started)
                    importing.wait()
                    self.half_seen += self.half_applied()
            elif roll < 0.55:
                n = self.rng.randrange(len(self.workers))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.workers[n].pid, signal.SIGKILL)
                    self.kills["worker"] += 1
                self.workers[n].wait()
                self.workers[n] = self.start_worker(n)
            else:
                web = self.rng.choice(self.web)
                pids = web.worker_pids()
                if pids and web.kill_worker(self.rng.choice(pids)):
                    self.kills["web"] += 1

    def half_applied(self) -> int:
        """1 when the file's interviews are in the database in part only, right after its import was killed."""
        from sqlalchemy import func, select

        from bot.store import Store
        from bot.store.schema import assignments

        ids = [i.interview_id for i in self.interviews if i.door in ("file", "ahead")]
        store = Store(self.database_url)
        try:
            with store.transaction() as conn:
                found = conn.execute(select(func.count()).select_from(assignments)
                                     .where(assignments.c.interview_id.in_(ids))).scalar()
        finally:
            store.dispose()
        return int(0 < found < len(ids))

    # -- the end ---------------------------------------------------------------------------------------------

    def drain(self) -> None:
        """Until no job due by now is waiting or running (tomorrow's digests stay planned)."""
        drain(self.database_url, self.config.drain_timeout, lambda store: store.backlog()[0])

    def check(self) -> None:  # noqa: C901  (one list of invariants)
        from bot.actions import OpenForm
        from bot.jobs.panel import _uuid
        from bot.schedule.bitable import state_of
        from bot.store import Store

        s, now = self.summary, time.time()
        s.kills = dict(self.kills)
        s.interviews = sum(i.door in ("intake", "file", "chat") for i in self.interviews)
        s.imports_half_seen = self.half_seen
        s.ahead = sum(i.door == "ahead" for i in self.interviews)
        store = Store(self.database_url)
        try:
            assignment = {}
            for person in {i.interviewer for i in self.interviews}:
                for a in store.assignments_of(person):
                    assignment[a.interview_id] = a
            by_status = store.jobs_by_status()
            stuck = _stuck(store, now - STUCK_AFTER)
        finally:
            store.dispose()
        messages = [m for m in self.api.messages() if m["sender"] == "app"]
        buttons = {json.dumps(OpenForm(a.key).encode(), sort_keys=True): iid for iid, a in assignment.items()}
        named: Counter = Counter()
        digests: Counter = Counter()
        for m in messages:
            uuid = m.get("uuid") or ""
            if uuid.endswith(":g"):
                digests[(m.get("receive_id"), uuid[-12:-2])] += 1
            if uuid.endswith((":r", ":g")):
                for value in _button_values(m.get("card")):
                    iid = buttons.get(json.dumps(value, sort_keys=True))
                    if iid is not None:
                        named[iid] += 1
        imported = [i for i in self.interviews if i.door != "seeded"]
        s.imports_incomplete = sum(i.interview_id not in assignment for i in imported)
        for i in imported:
            a = assignment.get(i.interview_id)
            if a is None or a.end_at > now:
                continue
            if a.submitted_at is None:
                s.announced += named[i.interview_id] == 1
                s.announced_missing += named[i.interview_id] == 0
            s.announced_twice += named[i.interview_id] > 1
        s.digests_max_per_person_day = max(digests.values(), default=0)
        seeded = [assignment[i.interview_id] for i in self.interviews if i.door == "seeded"]
        escalated = Counter(m.get("uuid") for m in messages if (m.get("uuid") or "").startswith("overdue:"))
        s.escalations = sum(escalated.values())
        s.escalations_wrong = sum(escalated[f"overdue:{a.id}:e"] != 1 or a.escalated_at is None for a in seeded)
        state = self.api.assessments()
        creates = [c for c in self.api.calls("create") if c["applied"]]
        s.create_calls = len(self.api.calls("create"))
        s.created = len(creates)
        commanded = [i for i in self.interviews if i.command]
        per_external = Counter((c["body"] or {}).get("external_id") for c in creates)
        s.created_wrong = sum(per_external[assignment[i.interview_id].external_id] != 1 for i in commanded)
        s.final_mismatches = sum(state.get(assignment[i.interview_id].feishu_assessment_id or "", {}).get("content")
                                 != i.command for i in commanded)
        replies = Counter(m.get("parent_id") for m in messages if m.get("parent_id"))
        confirmations = [replies[f"om_sched{n:027d}"] for n in range(len(commanded))]
        s.confirmations_missing = confirmations.count(0)
        s.confirmations_duplicated = sum(n > 1 for n in confirmations)
        applications = {i.application for i in self.interviews if i.application
                        and assignment.get(i.interview_id) and assignment[i.interview_id].end_at <= now}
        panel = Counter(m.get("uuid") for m in messages if (m.get("uuid") or "").startswith("pn-"))
        s.panels = sum(panel.values())
        s.panels_wrong = sum(panel[_uuid(app, RECRUITER, "progress", "")] != 1 for app in applications)
        s.panels_wrong += s.panels - sum(panel[_uuid(app, RECRUITER, k, "")] for app in applications
                                         for k in ("progress", "summary"))
        table = self.api_admin("GET", f"/_sandbox/bitable?app_token={TABLE_APP}&table_id={TABLE_ID}")
        rows = table.get("records", {})
        s.table_rows = len(rows)
        for fields in rows.values():
            iid = "".join(seg.get("text", "") for seg in fields.get("面试ID", []))
            a = assignment.get(iid)
            shown = fields.get("面评状态")
            shown = "".join(seg.get("text", "") for seg in shown) if isinstance(shown, list) else shown
            s.table_wrong += a is None or not str(shown or "").startswith(STATUS.get(state_of(a), "?"))
        s.stuck_jobs = stuck
        s.dead_jobs = by_status.get("dead", 0)
        checks = [(s.announced_missing == 0, f"{s.announced_missing} interviews never announced"),
                  (s.announced_twice == 0, f"{s.announced_twice} interviews announced twice"),
                  (s.digests_max_per_person_day <= 1, "a person got two digests in a day"),
                  (s.escalations_wrong == 0, f"{s.escalations_wrong} escalations not exactly once"),
                  (s.created_wrong == 0, f"{s.created_wrong} assignments without exactly one assessment"),
                  (s.final_mismatches == 0, f"{s.final_mismatches} assessments differ from their command"),
                  (s.confirmations_missing == 0, f"{s.confirmations_missing} commands never confirmed"),
                  (s.confirmations_duplicated == 0, f"{s.confirmations_duplicated} commands confirmed twice"),
                  (s.imports_incomplete == 0, f"{s.imports_incomplete} imported interviews missing"),
                  (s.panels_wrong == 0, f"{s.panels_wrong} progress cards not one per application"),
                  (s.table_wrong == 0, f"{s.table_wrong} table statuses differ from the bot's"),
                  (s.chat_imports == 1, "Import was never pressed: the chat's preview did not come"),
                  (s.stuck_jobs == 0, f"{s.stuck_jobs} jobs stuck"),
                  (s.dead_jobs == 0, f"{s.dead_jobs} dead jobs"),
                  (sum(self.kills.values()) >= self.config.kills, f"only {sum(self.kills.values())} kills")]
        s.problems = [problem for ok, problem in checks if not ok]


def _stuck(store, before: float) -> int:  # noqa: ANN001
    """Jobs due (or abandoned by a runner) before `before` and still not settled."""
    from sqlalchemy import and_, func, or_, select

    from bot.store import jobs

    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(jobs).where(or_(
            and_(jobs.c.status == "pending", jobs.c.run_after < before),
            and_(jobs.c.status == "running", jobs.c.lease_until < before)))).scalar())


def _button_values(node: object) -> list:
    if isinstance(node, list):
        return [v for item in node for v in _button_values(item)]
    if not isinstance(node, dict):
        return []
    own = [b.get("value") for b in node.get("behaviors", [])] if node.get("tag") == "button" else []
    return own + [v for value in node.values() for v in _button_values(value)]


def schedule_crash(config: ScheduleConfig, workdir: Path) -> ScheduleSummary:
    """One schedule run on a fresh database: SQLite, or PostgreSQL (`config.database` names the server)."""
    from benchmarks.crash.run import database

    kind = "sqlite" if config.database == "sqlite" else "postgresql"
    with database(kind, workdir, config.database) as (url, label):
        return ScheduleRun(config, workdir, url, label).run()

