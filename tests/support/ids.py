"""The tests' fixed world: secrets, people, the fake Open API's domain, a fixed "now", and the app's settings."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "tests" / "payloads"
APP_ID, APP_SECRET = "cli_test", "app-secret-value"  # the app the tests' settings name, as the stand-in knows it
SANDBOX_APP_ID, SANDBOX_APP_SECRET = "cli_sandbox", "sandbox-secret"  # the app the local Open API accepts unasked
ENCRYPT_KEY = "test key"
TOKEN = "066zT6pS4QCbgj5Do145GfDbbagVerify"
DOMAIN = "https://open.feishu.test"
BOT = "ou_bot0000000000000000000000000000"
ALICE = "ou_alice000000000000000000000000000"
BOB = "ou_bob00000000000000000000000000000"
ADMIN = "ou_admin000000000000000000000000000"
DIRECTORY = {ALICE: "Alice Zhang", BOB: "Bob Li", ADMIN: "Admin Wang"}  # the contact directory of the tests' Feishu
START = 1_795_600_000.0  # 2026-11-25, a fixed "now"


SUCCESS = (200, {"code": 0, "msg": "success", "data": {"external_interview_assessment": {"id": "x"}}})


def load_payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(feishu_app_id=APP_ID, feishu_app_secret=APP_SECRET, feishu_verification_token=TOKEN,
                  feishu_encrypt_key=ENCRYPT_KEY, feishu_domain=DOMAIN, feishu_bot_open_id=BOT,
                  database_url=database_url, assessbot_runner_threads=0, assessbot_rubric=ROOT / "config/rubric.toml",
                  assessbot_log_level="DEBUG")
    values.update(overrides)
    return Settings(_env_file=None, **values)




# Names the tests share, declared here once and imported, never declared again.
AID = "6930815272790114324"  # an assessment id as Feishu gives it
CODING = {"assessment_type": 1, "title": "编码能力", "description": "代码质量、正确性与调试能力", "score": 4}
INTAKE = "intake-token-0123456789abcdef"  # the intake API's bearer token in tests
OPEN_ID = "ou_7d8a6e6df7621556ce0d21922b676706"
SHANGHAI = ZoneInfo("Asia/Shanghai")
