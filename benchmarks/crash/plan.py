"""The crash test's plan: interviewers' commands, how often each is delivered, and the summary of a run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from benchmarks.crash.harness import summary_table
from bot.sandbox import processes, push

APP_ID, APP_SECRET = "cli_sandbox", "sandbox-secret"  # what the local Open API accepts by default
ENCRYPT_KEY = "crash test encrypt key"
TOKEN = "crash-test-verification-token"
BOT_OPEN_ID = "ou_bot0000000000000000000000000000"
CONCLUSIONS = {"pass": 2, "通过": 2, "fail": 1, "不通过": 1, "pending": 3, "待定": 3}
CODING = {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力"}
SENDERS = [f"ou_crash{n:027d}" for n in range(12)]


@dataclass
class Config:
    """The size and the database of one run."""

    events: int = 1000
    kills: int = 50
    database: str = "sqlite"  # or a postgresql:// URL of a server where databases may be created
    instances: int = 1
    clients: int = 8
    send_seconds: float = 0.0  # spread the first deliveries over this long; 0: events / 25
    seed: int = 1
    drain_timeout: float = 300.0

    @property
    def assessments(self) -> int:
        return max(1, int(self.events * 0.4))


@dataclass
class Command:
    """One interviewer's command: its message, what it says, and how many times Feishu delivers it."""

    n: int
    assessment_id: str
    sender: str
    conclusion: str
    coding: int
    comment: str
    copies: int
    message_id: str = ""
    event_id: str = ""
    acked: bool = False

    def __post_init__(self) -> None:
        self.message_id = f"om_crash{self.n:027d}"
        self.event_id = f"ev_crash{self.n:024d}"

    def payload(self) -> dict:
        text = f'/assess {self.assessment_id} {self.conclusion} coding={self.coding} comment="{self.comment}"'
        return push.message_event(text, token=TOKEN, sender=self.sender, chat_id="oc_" + self.sender[3:],
                                  message_id=self.message_id, event_id=self.event_id, app_id=APP_ID)

    def expected(self) -> dict:
        """What the Open API must hold for the assessment when this was its last command."""
        return {"conclusion": CONCLUSIONS[self.conclusion],
                "assessment_dimension_list": [{**CODING, "score": self.coding}], "content": self.comment}


def plan(config: Config, rng: random.Random) -> list[list[Command]]:
    """Commands grouped by assessment, each group in the order it is sent; every assessment gets one or more."""
    ids = [str(6_930_000_000_000_000_000 + n * 7919 + rng.randrange(7919)) for n in range(config.assessments)]
    targets = ids + [rng.choice(ids) for _ in range(config.events - len(ids))]
    rng.shuffle(targets)
    owner = {aid: rng.choice(SENDERS) for aid in ids}
    chains: dict[str, list[Command]] = {aid: [] for aid in ids}
    for n, aid in enumerate(targets):
        round_ = len(chains[aid]) + 1
        chains[aid].append(Command(n, aid, owner[aid], rng.choice(list(CONCLUSIONS)), rng.randint(1, 5),
                                   f"第{round_}轮 note {n}: {rng.choice(['清晰', 'solid', 'needs work', '稳'])}",
                                   rng.randint(2, 5)))
    return list(chains.values())


@dataclass
class Summary:
    """What one run saw; `problems` lists every broken invariant."""

    database: str
    instances: str
    events: int = 0
    assessments: int = 0
    deliveries: int = 0
    concurrent_pairs: int = 0
    acks: int = 0
    no_answer: int = 0
    http_errors: dict = field(default_factory=dict)
    ack_p50_ms: float = 0.0
    ack_p99_ms: float = 0.0
    ack_max_ms: float = 0.0
    ack_max_undisturbed_ms: float = 0.0
    kills: int = 0
    kills_after_patch: int = 0
    writes_cut_after_patch: int = 0
    dropped_after_apply: int = 0
    patches_seen: int = 0
    patches_applied: int = 0
    throttled: int = 0
    write_jobs: int = 0
    final_mismatches: int = 0
    confirmations_missing: int = 0
    confirmations_duplicated: int = 0
    reply_attempts: int = 0
    stuck_jobs: int = 0
    dead_jobs: int = 0
    readyz_backlog: int = 0
    duration_s: float = 0.0
    problems: list = field(default_factory=list)

    def table(self) -> str:
        rows = [("database", f"{self.database} ({self.instances})"),
                ("events (assessments)", f"{self.events} ({self.assessments})"),
                ("deliveries (concurrent pairs)", f"{self.deliveries} ({self.concurrent_pairs})"),
                ("acknowledged events", self.acks),
                ("deliveries without an answer", self.no_answer),
                ("HTTP errors", self.http_errors or 0),
                ("ack latency p50 / p99 / max", f"{self.ack_p50_ms:.1f} / {self.ack_p99_ms:.1f} / "
                                                f"{self.ack_max_ms:.1f} ms"),
                ("ack max while the table was not held", f"{self.ack_max_undisturbed_ms:.1f} ms"),
                ("SIGKILLs (right after a PATCH)", f"{self.kills} ({self.kills_after_patch}, cutting "
                                                   f"{self.writes_cut_after_patch} writes)"),
                ("PATCH applied, connection dropped", self.dropped_after_apply),
                ("PATCHes seen (applied)", f"{self.patches_seen} ({self.patches_applied})"),
                ("PATCHes refused over 20/s", self.throttled),
                ("write jobs", self.write_jobs),
                ("final mismatches", self.final_mismatches),
                ("confirmations missing / duplicated", f"{self.confirmations_missing} / "
                                                       f"{self.confirmations_duplicated}"),
                ("reply attempts (repeats absorbed by uuid)", f"{self.reply_attempts} "
                                                               f"({self.reply_attempts - self.events})"),
                ("stuck / dead jobs", f"{self.stuck_jobs} / {self.dead_jobs}"),
                ("/readyz backlog", self.readyz_backlog),
                ("duration", f"{self.duration_s:.1f} s")]
        return summary_table(rows, self.problems)


def bot_env(openapi_url: str, database_url: str) -> dict[str, str]:
    """The environment of the bot's processes: the crash test's keys, the local Open API, the database."""
    return processes.bot_env(openapi_url=openapi_url, database_url=database_url, app_id=APP_ID,
                             app_secret=APP_SECRET, encrypt_key=ENCRYPT_KEY, token=TOKEN,
                             FEISHU_BOT_OPEN_ID=BOT_OPEN_ID, ASSESSBOT_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
