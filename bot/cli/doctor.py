"""`assessbot doctor`: check a real deployment — settings, Feishu credentials, database, rubric and feedback forms,
console set-up; in long-connection mode also that Feishu would open the connection (without opening one).

Every line is ✓ (verified fine), ✗ (verified wrong: the line says what to do) or · (cannot be seen from
here: check it by hand in Feishu's developer console). Exit status 0 when nothing verified is wrong.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot import rubric
from bot import settings as settings_module
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.feishu.errors import FeishuError

CREDENTIALS = ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_VERIFICATION_TOKEN", "FEISHU_ENCRYPT_KEY")
PERMISSIONS = (
    ("hire:external_application", "update external interview assessments"),
    ("im:message:send_as_bot", "reply and send cards"),
    ("im:message.p2p_msg:readonly", "read messages people send the bot"),
    ("im:message.group_at_msg:readonly", "read group messages that @ the bot"),
)
OPTIONAL_PERMISSION = ("contact:user.base:readonly", "prefill the interviewer's name in the form")
SCHEDULE_PERMISSION = ("contact:user.id:readonly", "name interviewers and recruiters by email or mobile in a schedule")
FILE_PERMISSION = ("im:message:readonly", "download schedule files sent to the bot in chat")
TABLE_PERMISSIONS = (("bitable:app:readonly", "read a followed Bitable (or base:record:retrieve and base:field:read)"),
                     ("bitable:app", "write each row's state into its status column, and its record-changed events"))
NO_SCOPE = 99991672  # Feishu's "Access denied. One of the following scopes is required"
CHALLENGE_BUDGET = 1.0  # Feishu gives a request URL one second to echo the challenge


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the bot's public base URL (https://bot.example.com): checks that "
                                      "<url>/feishu/events answers Feishu's URL check with these keys")
    parser.add_argument("--env-file", default=".env", help="settings file read besides the environment")


@dataclass
class Report:
    """The printed lines, and whether anything verified was wrong."""

    out: Callable[[str], None] = print
    failures: int = 0
    facts: dict[str, bool | None] = field(default_factory=dict)  # what the checklist can reuse

    def section(self, title: str) -> None:
        self.out("")
        self.out(title)

    def good(self, text: str) -> None:
        self.out(f"  ✓ {text}")

    def bad(self, text: str) -> None:
        self.failures += 1
        self.out(f"  ✗ {text}")

    def unknown(self, text: str) -> None:
        self.out(f"  · {text}")

    def item(self, verdict: bool | None, text: str) -> None:
        """A checklist line; a ✗ here repeats a problem already counted above."""
        self.out(f"  {'✓' if verdict else '·' if verdict is None else '✗'} {text}")


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
            report.bad(f"Feishu refused the credentials: code {exc.code} ({_said(exc.msg)}); check FEISHU_APP_ID "
                       "and FEISHU_APP_SECRET against Credentials & Basic Info (凭证与基础信息)")
        return
    report.facts["credentials"] = True
    report.good(f"tenant token issued for {settings.feishu_app_id}")
    try:
        open_id = client.bot_open_id()
    except FeishuError as exc:
        report.facts["bot"] = False
        report.bad(f"could not read the bot's info: {_failure(exc)}; enable Features → Bot")
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
        report.bad(f"{shown(settings.database_url)}: cannot open: {_first_line(exc)}")
    finally:
        if store is not None:
            store.dispose()


def check_schedule(report: Report, settings: Settings) -> None:
    """When the database holds a schedule: the scopes it needs, each tried with a harmless read."""
    from bot.feishu.client import Feishu, FeishuError
    from bot.store import Store

    try:
        store = Store(settings.database_url)
        try:
            interview = store.any_interview()
        finally:
            store.dispose()
    except Exception:
        return  # the database check above has said what is wrong
    if interview is None or report.facts.get("credentials") is not True:
        return
    report.section("Schedule")
    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    try:
        client.interview_assessments(interview)
        report.good(f"{PERMISSIONS[0][0]}: interviews read back (creating a missing assessment needs the same scope)")
    except FeishuError as exc:
        report.bad(f"{PERMISSIONS[0][0]}: reading interview {interview} failed: {_failure(exc)}; the schedule's "
                   "assessments cannot be created or checked without it")
    try:
        client.open_ids(["doctor-check@invalid.example"], [])
        report.good(f"{SCHEDULE_PERMISSION[0]}: people can be found by email or mobile")
    except FeishuError as exc:
        if exc.code != NO_SCOPE:
            report.bad(f"{SCHEDULE_PERMISSION[0]}: looking a person up failed: {_failure(exc)}")
        else:
            report.unknown(f"{SCHEDULE_PERMISSION[0]} is not granted: give interviewers and recruiters as open_ids "
                           "(ou_…), or add the scope to name them by email or mobile")


def check_tables(report: Report, settings: Settings) -> None:
    """Each followed Bitable (ASSESSBOT_SCHEDULE_BITABLE): readable by the app, its columns, its status column."""
    if not settings.assessbot_schedule_bitable:
        return
    report.section("Followed Bitables (ASSESSBOT_SCHEDULE_BITABLE)")
    if report.facts.get("credentials") is not True:
        report.unknown("not checked: the credentials above must work first")
        return
    from bot.feishu.client import Feishu, FeishuError
    from bot.schedule.bitable import known_columns, table_of
    from bot.schedule.tables import NotABase, resolve, table_failed
    from bot.schedule.validation import COLUMNS, REQUIRED, is_written

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    for url in settings.assessbot_schedule_bitable:
        table = table_of(url)
        name = f"table {table.table_id}"
        try:
            table = resolve(client, table)
            assert table.app_token is not None
            fields = [str(f.get("field_name")) for f in client.table_fields(table.app_token, table.table_id)]
            records, _ = client.table_records(table.app_token, table.table_id, table.view_id)
        except (FeishuError, NotABase) as exc:
            report.bad(f"{name}: {table_failed(exc, settings.feishu_domain)[1]}")
            continue
        found = known_columns(fields)
        missing = [COLUMNS[field][0] for field in REQUIRED if field not in found.values()]
        if missing:
            report.bad(f"{name}: readable, but the required column{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)} (or the Chinese names) {'are' if len(missing) > 1 else 'is'} missing")
        else:
            report.good(f"{name}: readable ({len(records)} record{'s' if len(records) != 1 else ''} on the first "
                        f"page); columns {', '.join(found)}")
        status = next((f for f in fields if is_written(f)), None)
        if status is None:
            report.unknown(f"{name}: no status column (面评状态 or feedback status): each row's state is not written "
                           "back")
        else:
            report.unknown(f"{name}: the state is written to {status!r}, which needs the scope bitable:app (not "
                           "tried: it would write)")


def check_forms(report: Report, settings: Settings) -> None:
    """The local rubric and the mapping read; Hire's forms listed (the scope tried); every mapping rule and every
    interview not opened yet that names a form Hire does not have is named."""
    from bot.forms import mapping

    report.section("Rubric")
    try:
        local = rubric.load(settings.assessbot_rubric)
    except rubric.RubricError as exc:
        report.bad(str(exc))
        return
    keys = ", ".join(d.key for d in local.dimensions)
    report.good(f"{settings.assessbot_rubric}: {len(local.dimensions)} dimensions ({keys})")
    report.section("Feedback forms (Feishu Hire)")
    try:
        form_map = mapping.load(settings.assessbot_forms)
    except mapping.MappingError as exc:
        report.bad(str(exc))
        form_map = mapping.FormMap()
    else:
        if form_map.rules:
            count = len(form_map.rules)
            report.good(f"{form_map.source}: {count} mapping rule{'s' if count > 1 else ''}")
        elif not settings.assessbot_forms.is_file():
            report.unknown(f"{settings.assessbot_forms}: no form mapping (ASSESSBOT_FORMS): an interview whose "
                           "schedule row names no form uses the local rubric")
    listed = _hire_forms(report, settings)
    stored, choices = _stored_forms(settings)
    rows = _known_forms(stored, listed)
    if listed is None and not any(r.origin == "hire" for r in rows) and not form_map.rules:
        return
    from bot.forms.catalogue import pick

    for rule in form_map.rules:
        if pick(rule.form, rows, local) is None:
            report.bad(f"{form_map.source} [[map]] #{rule.line} (job {rule.job!r}, round {rule.round!r}) names the "
                       f"form {rule.form!r}, which Feishu Hire does not have: those interviews use the local rubric")
    names = {r.id: r.name for r in stored}
    missing = Counter(form for pinned, form, _, _ in choices
                      if form and not pinned and pick(form, rows, local) is None)
    for form, count in sorted(missing.items()):
        named = f"{names[form]!r} ({form})" if form in names else repr(form)
        report.bad(f"{count} interview{'s' if count > 1 else ''} of the schedule name{'' if count > 1 else 's'} the "
                   f"form {named}, which Feishu Hire does not have: import them again with a form that exists (an "
                   "interview already opened keeps the version it had)")


def _hire_forms(report: Report, settings: Settings) -> list[dict] | None:
    """The forms Hire lists (None: not asked, or refused), said as a line."""
    from bot.forms.sync import NO_SCOPE as NO_FORMS_SCOPE
    from bot.forms.sync import SCOPE

    if report.facts.get("credentials") is not True:
        report.unknown(f"{SCOPE}: not checked (Feishu's credentials are needed); interviews use the forms last "
                       "read, else the local rubric")
        return None
    from bot.feishu.client import Feishu, FeishuError
    from bot.forms.hire import HireForm

    client = Feishu(settings.feishu_app_id, settings.feishu_app_secret, settings.feishu_domain,
                    settings.assessbot_api_timeout)
    try:
        items = client.feedback_forms()
    except FeishuError as exc:
        if exc.code == NO_FORMS_SCOPE:
            report.unknown(f"{SCOPE} is not granted: every interview uses the local rubric (add the scope to use the "
                           "tenant's own feedback forms from Feishu Hire)")
        else:
            report.bad(f"{SCOPE}: listing the feedback forms failed: {_failure(exc)}")
        return None
    names = []
    for item in items:
        try:
            names.append(HireForm.model_validate(item).names[0])
        except ValueError:
            names.append(f"{item.get('id')} (cannot be read)")
    shown = ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")
    report.good(f"{SCOPE}: {len(items)} feedback form{'s' if len(items) != 1 else ''} in Feishu Hire"
                + (f": {shown}" if names else ""))
    return items


def _stored_forms(settings: Settings) -> tuple[list, list]:
    """The form versions the database keeps and what each assignment chose (empty when it cannot be read)."""
    from bot.store import Store

    try:
        store = Store(settings.database_url)
        try:
            return store.stored_forms(), store.form_choices()
        finally:
            store.dispose()
    except Exception:
        return [], []  # the database check above has said what is wrong


def _known_forms(stored: list, listed: list[dict] | None) -> list:
    """The versions known, current as Hire lists them now when it was asked (else as last synced)."""
    from dataclasses import replace

    from bot.forms.hire import HireForm
    from bot.store import FormRow

    if listed is None:
        return stored
    now: dict[str, FormRow] = {}
    for item in listed:
        try:
            form = HireForm.model_validate(item)
        except ValueError:
            continue
        name, name_en = form.names
        now[form.id] = FormRow(form.id, "hire", form.version, name, name_en, True, 0.0)
    kept = [replace(r, current=r.id in now) if r.origin == "hire" else r for r in stored]
    return kept + [r for i, r in now.items() if i not in {k.id for k in stored}]


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


def _failure(exc: FeishuError) -> str:
    """Feishu's code and words, or why it could not be asked (no code then)."""
    return f"code {exc.code} ({_said(exc.msg)})" if exc.code is not None else exc.msg


def _said(msg: str) -> str:
    return msg.split(", msg: ")[-1] if ", msg: " in msg else msg


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
