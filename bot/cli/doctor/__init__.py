"""`assessbot doctor`: check a real deployment — settings, Feishu credentials, database, rubric and feedback forms,
console set-up; in long-connection mode also that Feishu would open the connection (without opening one).

Every line is ✓ (verified fine), ✗ (verified wrong: the line says what to do) or · (cannot be seen from
here: check it by hand in Feishu's developer console). Exit status 0 when nothing verified is wrong.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from bot import settings as settings_module
from bot.cli.doctor.report import (
    CHALLENGE_BUDGET,
    CREDENTIALS,
    FILE_PERMISSION,
    OPTIONAL_PERMISSION,
    PERMISSIONS,
    SCHEDULE_PERMISSION,
    TABLE_PERMISSIONS,
    Report,
    failure,
    first_line,
    said,
)
from bot.cli.doctor.schedule import check_forms, check_schedule, check_tables
from bot.settings import Settings, SettingsError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the bot's public base URL (https://bot.example.com): checks that "
                                      "<url>/feishu/events answers Feishu's URL check with these keys")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run every check; 0 when nothing verified is wrong, 1 otherwise."""
    report = Report(out)
    out("assessbot doctor")
    settings, complete = check_settings(report, args.env_file)
    if settings is not None:
        check_feishu(report, settings, complete)
        check_database(report, settings)
        check_schedule(report, settings)
        check_tables(report, settings)
        check_forms(report, settings)
        if settings.feishu_event_mode == "longconn":
            check_longconn(report, settings)
        elif args.url and complete:
            check_url(report, settings, args.url)
        else:
            report.section("Request URL")
            report.unknown("not checked: fix the settings above first" if args.url
                           else "not checked: run again with --url https://<your host> to send Feishu's URL check to "
                                "the running bot")
    checklist(report, settings, args.url)
    out("")
    if report.failures:
        out(f"{report.failures} problem{'s' if report.failures > 1 else ''} found (✗ above).")
        return 1
    out("Everything that could be checked from here is fine; tick the · items off by hand.")
    return 0


def check_settings(report: Report, env_file: str | None) -> tuple[Settings | None, bool]:
    """The settings, or stand-ins for missing credentials so the other checks still run; and whether complete."""
    report.section("Settings (environment and .env)")
    try:
        loaded = settings_module.load(env_file)
        report.good("every setting is present and valid")
        return loaded, True
    except SettingsError as exc:
        problems = [line.strip().removeprefix("- ") for line in str(exc).splitlines() if line.strip()]
    for problem in problems:
        report.bad(problem)
    stand_ins = {name.lower(): "unset" for name in CREDENTIALS if any(p.startswith(name + " ") for p in problems)}
    try:
        return settings_module.load(env_file, **stand_ins), False
    except SettingsError:
        report.unknown("Feishu, database and rubric not checked: fix the settings above first")
        return None, False


def check_feishu(report: Report, settings: Settings, complete: bool) -> None:
    """A tenant token from FEISHU_DOMAIN proves the domain answers and the credentials are right."""
    domain = settings.feishu_domain
    report.section(f"Feishu ({domain})")
    if settings.feishu_app_id == "unset" or settings.feishu_app_secret == "unset":
        report.facts["credentials"] = False
        report.unknown("credentials not checked: FEISHU_APP_ID and FEISHU_APP_SECRET are needed")
        return
    from bot.feishu.client import Feishu, FeishuError

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, domain, settings.assessbot_api_timeout)
    try:
        client.tenant_token()
    except FeishuError as exc:
        report.facts["credentials"] = None if exc.code is None else False
        if exc.code is None:
            report.bad(f"cannot reach {domain} ({exc.msg.removeprefix('cannot reach Feishu: ')}): check "
                       "FEISHU_DOMAIN and this machine's network")
        else:
            report.bad(f"Feishu refused the credentials: code {exc.code} ({said(exc.msg)}); check FEISHU_APP_ID "
                       "and FEISHU_APP_SECRET against Credentials & Basic Info (凭证与基础信息)")
        return
    report.facts["credentials"] = True
    report.good(f"tenant token issued for {settings.feishu_app_id}")
    try:
        open_id = client.bot_open_id()
    except FeishuError as exc:
        report.facts["bot"] = False
        report.bad(f"could not read the bot's info: {failure(exc)}; enable Features → Bot")
        return
    report.facts["bot"] = bool(open_id)
    if not open_id:
        report.bad("Feishu reports no bot for this app: enable Features → Bot (应用能力 → 机器人)")
    elif settings.feishu_bot_open_id and settings.feishu_bot_open_id != open_id:
        report.bad(f"FEISHU_BOT_OPEN_ID is {settings.feishu_bot_open_id} but Feishu says the bot is {open_id}: "
                   "fix it or leave it unset")
    else:
        report.good(f"the bot is enabled; its open_id is {open_id}")


def check_database(report: Report, settings: Settings) -> None:
    """Connect and create the tables (idempotent), as the bot does on start."""
    from bot.store import Misconfigured, SchemaTooNew, Store, Unavailable, explain
    from bot.store.errors import shown

    report.section("Database")
    store = None
    try:
        store = Store(settings.database_url)
        store.create_schema()
        store.ping()
        report.good(f"{shown(settings.database_url)}: connected, tables ready")
    except (SchemaTooNew, Unavailable, Misconfigured) as exc:
        report.bad(explain(exc, settings.database_url))
    except Exception as exc:
        report.bad(f"{shown(settings.database_url)}: cannot open: {first_line(exc)}")
    finally:
        if store is not None:
            store.dispose()


def check_url(report: Report, settings: Settings, url: str) -> None:
    """Do what Feishu does when the request URL is saved: POST an encrypted challenge, expect it back in 1 s."""
    import requests

    from bot.feishu.security import encrypt

    endpoint = events_url(url)
    report.section(f"Request URL ({endpoint})")
    challenge = str(uuid.uuid4())
    body = encrypt({"challenge": challenge, "token": settings.feishu_verification_token,
                    "type": "url_verification"}, settings.feishu_encrypt_key)
    started = time.monotonic()
    try:
        response = requests.post(endpoint, data=body, timeout=5,
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    except requests.RequestException as exc:
        report.facts["url"] = False
        report.bad(f"cannot reach {endpoint}: {type(exc).__name__}")
        return
    elapsed = time.monotonic() - started
    try:
        echoed = response.json().get("challenge")
    except (ValueError, AttributeError):
        echoed = None
    report.facts["url"] = response.status_code == 200 and echoed == challenge and elapsed <= CHALLENGE_BUDGET
    if response.status_code == 401:
        report.bad("the bot there refused the challenge (401): its FEISHU_ENCRYPT_KEY or FEISHU_VERIFICATION_TOKEN "
                   "differs from these settings")
    elif response.status_code != 200 or echoed != challenge:
        report.bad(f"answered HTTP {response.status_code} without the challenge: is this URL the bot?")
    elif elapsed > CHALLENGE_BUDGET:
        report.bad(f"answered the challenge in {elapsed:.1f} s; Feishu gives up after {CHALLENGE_BUDGET:.0f} s")
    else:
        report.good(f"answers Feishu's URL check with these keys in {elapsed * 1000:.0f} ms")


def check_longconn(report: Report, settings: Settings) -> None:
    """Ask the long connection's endpoint for a connection URL, as the bot does first (no connection is opened)."""
    report.section(f"Long connection (FEISHU_EVENT_MODE=longconn, {settings.feishu_domain})")
    if "unset" in (settings.feishu_app_id, settings.feishu_app_secret):
        report.unknown("not checked: FEISHU_APP_ID and FEISHU_APP_SECRET are needed")
        return
    from bot.feishu.longconn import probe

    why = probe(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                settings.assessbot_api_timeout)
    report.facts["longconn"] = why is None
    if why is None:
        report.good("the endpoint hands this app a connection (none opened: the running bot keeps its own)")
    else:
        report.bad(f"the endpoint gives no connection: {why}. Check the credentials, that outbound HTTPS and "
                   "WebSocket to FEISHU_DOMAIN are allowed, and the subscription mode below")


def checklist(report: Report, settings: Settings | None, url: str | None) -> None:
    """The developer-console set-up, each item verified where this machine can tell."""
    domain = settings.feishu_domain if settings else "https://open.feishu.cn"
    console = "https://open.larksuite.com/app" if "larksuite" in domain else "https://open.feishu.cn/app"
    report.section(f"Developer console ({console} → your app): ✓ verified, ✗ wrong, · check by hand")
    facts = report.facts
    report.item(facts.get("credentials"), "Credentials & Basic Info (凭证与基础信息): App ID and App Secret "
                                          "in FEISHU_APP_ID / FEISHU_APP_SECRET")
    report.item(facts.get("bot"), "Features → Bot (应用能力 → 机器人): enabled")
    for scope, why in PERMISSIONS:
        report.unknown(f"Permissions & Scopes (权限管理): {scope} — {why}")
    report.unknown(f"Permissions & Scopes (optional): {OPTIONAL_PERMISSION[0]} — {OPTIONAL_PERMISSION[1]}")
    if settings is not None and settings.feishu_event_mode == "longconn":
        _longconn_items(report)
        return
    keys_set = settings is not None and "unset" not in (settings.feishu_encrypt_key,
                                                        settings.feishu_verification_token)
    # Set here is all this machine can see: whether they are the console's values shows only when the console saves
    # the request URL (Feishu's challenge, encrypted with its key, must be answered).
    report.item(None if keys_set else False, "Events & Callbacks → Encryption Strategy (事件与回调 → 加密策略): the "
                                             "Encrypt Key and Verification Token there are the values of "
                                             "FEISHU_ENCRYPT_KEY / FEISHU_VERIFICATION_TOKEN"
                                             + (" (set here; only the console shows its own)" if keys_set else ""))
    where = events_url(url) if url else "https://<your host>/feishu/events"
    # a URL that fails the check cannot be saved in the console; one that passes still needs the subscription
    reachable = False if facts.get("url") is False else None
    report.item(reachable, f"Event configuration (事件配置): request URL {where}; subscribe to "
                           "im.message.receive_v1 (Receive messages v2.0)")
    report.item(reachable, f"Callback configuration (回调配置): request URL {where}; subscribe to "
                           "card.action.trigger (卡片回传交互, the new card callback). An app still set up with the "
                           "older Features → Bot → message card request URL (消息卡片请求网址) works too if it is "
                           "the same URL: its 1.0 callbacks are checked with the Verification Token")
    report.unknown("Event configuration (事件配置, optional): subscribe to application.bot.menu_v6 (机器人自定义菜单) "
                   "and give a menu item (Features → Bot → custom menu) the event id todo or help")
    _schedule_items(report, settings)
    report.unknown("Version Management & Release (版本管理与发布): publish a version; make the app available to "
                   "the interviewers")


def _longconn_items(report: Report) -> None:
    """The console settings long-connection mode needs; the mode itself can only be seen there."""
    opened = False if report.facts.get("longconn") is False else None
    report.unknown("Events & Callbacks → Encryption Strategy (加密策略): not used over the long connection; set "
                   "FEISHU_ENCRYPT_KEY / FEISHU_VERIFICATION_TOKEN only if /feishu/events should answer too")
    report.item(opened, "Event configuration (事件配置): subscription mode 使用长连接接收事件 (receive events through "
                        "persistent connection); subscribe to im.message.receive_v1 (Receive messages v2.0)")
    report.item(opened, "Callback configuration (回调配置): subscription mode 使用长连接接收回调 (receive callbacks "
                        "through persistent connection); subscribe to card.action.trigger")
    report.unknown("Save the mode while the bot runs: the console looks for its open connection (custom apps only)")
    report.unknown("Version Management & Release (版本管理与发布): publish a version; make the app available to "
                   "the interviewers")
    report.unknown(f"Permissions & Scopes (for a schedule): {SCHEDULE_PERMISSION[0]} — {SCHEDULE_PERMISSION[1]}")
    _schedule_items(report, None)


def _schedule_items(report: Report, settings: Settings | None) -> None:
    """What the schedule's ways in need in the console: a file in chat, and a followed Bitable."""
    report.unknown(f"Permissions & Scopes (schedule files in chat): {FILE_PERMISSION[0]} — {FILE_PERMISSION[1]}")
    if settings is None or settings.assessbot_schedule_bitable:
        for scope, why in TABLE_PERMISSIONS:
            report.unknown(f"Permissions & Scopes (a followed Bitable): {scope} — {why}")
        report.unknown("Event configuration (optional): subscribe to drive.file.bitable_record_changed_v1 (多维表格"
                       "记录变更) so a followed Bitable is read soon after it changes, not only every "
                       "ASSESSBOT_SCHEDULE_SYNC_MINUTES")


def events_url(url: str) -> str:
    """`https://host[/prefix]/feishu/events` from the bot's base URL (or the full URL)."""
    url = url.rstrip("/")
    if not urlsplit(url).scheme:
        url = "https://" + url
    return url if url.endswith("/feishu/events") else url + "/feishu/events"
