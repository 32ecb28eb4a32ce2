"""`assessbot sandbox` (and `make run` without credentials): the whole bot on this machine, no Feishu tenant.

Starts the local Open API and the bot under gunicorn with throw-away keys, waits until the bot answers,
then runs the console in the foreground. With --longconn the bot runs in long-connection mode
(FEISHU_EVENT_MODE=longconn, no Encrypt Key or Verification Token): it connects to the local Open API's gateway,
and the console's messages and clicks reach it over that connection instead of /feishu/events.
Ctrl-C, :quit or end of input stops everything it started.
State survives in var/ (the Open API's assessments and messages, the bot's database); --fresh starts over.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import requests

from bot.feishu.errors import FeishuError
from bot.sandbox import processes, seed
from bot.sandbox.console import api as console_api
from bot.sandbox.console import chat as console
from bot.sandbox.console.api import LocalOpenAPI, Unreachable
from bot.settings import Settings

STATE_FILE, DATABASE = "sandbox-openapi.json", "sandbox.db"
BOT_LOG, OPENAPI_LOG = "sandbox-bot.log", "sandbox-openapi.log"
LOCK_FILE = "sandbox.lock"  # held by the running sandbox: a second one in the same directory refuses to start
START_TIMEOUT = 60.0  # gunicorn imports lark-oapi before it binds: seconds on a slow machine
STOP_TIMEOUT = 10.0


class Failed(Exception):
    """Something the sandbox started did not come up; the message says what and where to look."""


class _Signalled(BaseException):
    """SIGTERM or SIGHUP: stop everything, as Ctrl-C does (not an Exception: nothing may swallow it)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """The sandbox's flags (the console's identity and language included)."""
    parser.add_argument("--no-console", action="store_true",
                        help="only run the servers until Ctrl-C (use `assessbot console` in another terminal)")
    parser.add_argument("--fresh", action="store_true", help="forget the assessments, messages and database of "
                                                             "earlier runs")
    parser.add_argument("--port", type=int, default=0, help="the bot's port (default: a free one)")
    parser.add_argument("--var", default="var", help="where state and logs are kept (default: ./var)")
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2, 3, 4), help="gunicorn workers (default 2)")
    parser.add_argument("--user", default=console.DEFAULT_USER, help="your open_id in the console")
    parser.add_argument("--name", default=console.DEFAULT_NAME, help="your name in the console")
    parser.add_argument("--group", action="store_true", help="chat in a group, @-mentioning the bot")
    parser.add_argument("--lang", choices=("zh", "en"), default=console.default_lang(), help="how cards are shown")
    parser.add_argument("--no-auto-create", action="store_true",
                        help="answer a PATCH of an unknown assessment id as Feishu does (1002002) instead of "
                             "creating it")
    parser.add_argument("--longconn", action="store_true", help="run the bot in long-connection mode: events and "
                                                                "card callbacks over the local gateway's connection")


def run(args: argparse.Namespace) -> int:
    """Start everything, chat (or wait), stop everything; 0 unless something failed to start."""
    var = Path(args.var).resolve()
    var.mkdir(parents=True, exist_ok=True)
    lock = _only_sandbox(var)
    if lock is None:
        where = _shown(var)
        print(f"assessbot sandbox: another sandbox is running with {where} (its session is "
              f"{where}/{console_api.SESSION_FILE.name}); chat with it with `assessbot console`, stop it first, or "
              "start this one with --var <another directory>.", file=sys.stderr)
        return 1
    with lock:
        try:
            return _run(args, var)
        finally:  # removed while still held: a sandbox starting now takes a new file (see _only_sandbox)
            (var / LOCK_FILE).unlink(missing_ok=True)


def _only_sandbox(var: Path) -> IO[str] | None:
    """An exclusive lock on `var` for this sandbox's lifetime (the system drops it when the process ends)."""
    path = var / LOCK_FILE
    while True:
        handle = open(path, "a")  # noqa: SIM115 - held until the sandbox stops
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                return handle
        except FileNotFoundError:
            pass
        handle.close()  # the sandbox that held it stopped and removed it meanwhile: take the new one


def _run(args: argparse.Namespace, var: Path) -> int:
    if args.fresh:
        for name in (STATE_FILE, DATABASE, DATABASE + "-wal", DATABASE + "-shm"):
            (var / name).unlink(missing_ok=True)
    lang = args.lang
    session_file = var / console_api.SESSION_FILE.name
    with _signals_stop(), _children() as started:
        try:
            options = _start(args, var, started)
            console_api.write_session({**vars(options), "pid": os.getpid()}, session_file)
            banner = _banner(options, var, args.no_console, lang) + _from_dotenv(lang)
            if lang == "en":  # Chinese needs no spaces to break at: the terminal wraps it well enough
                banner = textwrap.fill(banner, min(shutil.get_terminal_size().columns, 110))
            print(banner, flush=True)
            if args.no_console:
                _wait(started)
            else:
                console.Console(options).run()
        except Failed as exc:
            print(f"assessbot sandbox: {exc}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, _Signalled):
            print()
        finally:
            if console_api.read_session(session_file).get("pid") == os.getpid():  # never another sandbox's
                session_file.unlink(missing_ok=True)
            print("Stopping the bot and the local Open API…" if lang == "en" else "正在停止机器人和本地开放平台……",
                  flush=True)
    print("Stopped." if lang == "en" else "已全部停止。", flush=True)
    return 0


def _start(args: argparse.Namespace, var: Path, started: list[subprocess.Popen]) -> console.Options:
    """The local Open API, then the bot pointed at it; the console's options to reach both."""
    longconn = bool(getattr(args, "longconn", False))
    openapi = processes.start([sys.executable, "-m", "bot.sandbox.openapi", "--port", "0", "--quiet",
                               "--state-file", str(var / STATE_FILE), *(["--longconn"] if longconn else []),
                               *(["--no-auto-create"] if getattr(args, "no_auto_create", False) else [])],
                              var / OPENAPI_LOG, pipe_stdout=True, append=True)
    started.append(openapi)
    openapi_url = processes.first_line(openapi, START_TIMEOUT if longconn else 20.0)  # the gateway imports lark-oapi
    if not openapi_url.startswith("http://"):
        raise Failed(f"the local Open API did not start; see {var / OPENAPI_LOG} (--fresh starts over if its state "
                     f"file is damaged)\n{processes.tail(var / OPENAPI_LOG, 6)}")
    http = requests.Session()
    try:
        bot_open_id = LocalOpenAPI(openapi_url, http).bot_open_id()
    except Unreachable as exc:
        raise Failed(f"the local Open API did not answer ({exc}); see {var / OPENAPI_LOG}") from None
    api = LocalOpenAPI(openapi_url, http)
    api.add_contacts(seed.contacts(args.user))
    api.add_user(args.user, args.name)  # before the bot first looks its people's names up
    if api.table(seed.TABLE_APP, seed.TABLE_ID) is None:  # the followed Bitable, before the bot first reads it
        api.put_table(seed.TABLE_APP, seed.TABLE_ID, seed.TABLE_FIELDS, seed.table_records(args.user, args.name,
                                                                                           time.time()))
    port = args.port or processes.free_port()
    options = console.Options(bot=f"http://127.0.0.1:{port}", openapi=openapi_url,
                              encrypt_key=secrets.token_urlsafe(24), token=secrets.token_urlsafe(24),
                              user=args.user, name=args.name, group=args.group, lang=args.lang, longconn=longconn)
    keys = ({"FEISHU_EVENT_MODE": "longconn"} if longconn else
            {"FEISHU_EVENT_MODE": "webhook", "FEISHU_ENCRYPT_KEY": options.encrypt_key,
             "FEISHU_VERIFICATION_TOKEN": options.token})
    env = {**{k: v for k, v in os.environ.items() if k not in ("FEISHU_ENCRYPT_KEY", "FEISHU_VERIFICATION_TOKEN")},
           "FEISHU_APP_ID": options.app_id, "FEISHU_APP_SECRET": options.app_secret, **keys,
           "FEISHU_DOMAIN": openapi_url, "FEISHU_BOT_OPEN_ID": bot_open_id,
           "DATABASE_URL": f"sqlite:///{var / DATABASE}", "HOST": "127.0.0.1", "PORT": str(port),
           "WEB_CONCURRENCY": str(args.workers), "ASSESSBOT_WORK_HOURS": seed.WORK_HOURS,
           "ASSESSBOT_WORK_DAYS": seed.WORK_DAYS, "ASSESSBOT_FORMS": str(seed.FORMS_MAP),
           "ASSESSBOT_SCHEDULE_BITABLE": seed.table_url(openapi_url),
           "ASSESSBOT_SCHEDULERS": args.user,  # the person at the console may send schedule files
           "ASSESSBOT_ADMINS": args.user}  # and is the sandbox's admin: owner=@…, /assign and the README's hints work
    bot = processes.start([processes.GUNICORN, processes.BOT_APP, "-c", str(processes.GUNICORN_CONF)],
                          var / BOT_LOG, env=env, append=True)
    started.append(bot)
    try:
        processes.wait_answering(f"{options.bot}/healthz", bot, START_TIMEOUT, log=var / BOT_LOG, interval=0.2)
    except RuntimeError as exc:
        raise Failed(f"the bot did not start: {exc}") from None
    if longconn:  # the first message must not wait for the connection
        try:
            processes.wait_until(lambda: _connections(http, openapi_url), START_TIMEOUT, 0.1,
                                 "the bot's long connection")
        except TimeoutError as exc:
            raise Failed(f"the bot did not open its long connection: {exc}; see {var / BOT_LOG}\n"
                         f"{processes.tail(var / BOT_LOG, 6)}") from None
    settings = Settings(_env_file=None, feishu_app_id=options.app_id, feishu_app_secret=options.app_secret,
                        feishu_verification_token=options.token, feishu_encrypt_key=options.encrypt_key,
                        feishu_domain=openapi_url, database_url=env["DATABASE_URL"],
                        assessbot_work_hours=seed.WORK_HOURS, assessbot_work_days=seed.WORK_DAYS,
                        assessbot_forms=seed.FORMS_MAP)
    options.since = time.time()  # the seeded reminder arrives before the console starts: still news
    try:
        seed.seed(settings, options.user, options.since)
        seed.seed_panel(settings, options.user, options.since)  # a candidate's panel for /panel
    except FeishuError as exc:
        raise Failed(f"could not seed the sandbox's schedule: {exc}; see {var / OPENAPI_LOG}") from None
    return options


def _connections(http: requests.Session, openapi_url: str) -> int:
    """How many long connections the local gateway has."""
    try:
        return int(http.get(f"{openapi_url}/_sandbox/longconn", timeout=5).json().get("connections", 0))
    except (requests.RequestException, ValueError, AttributeError):
        return 0


def _from_dotenv(lang: str) -> str:
    """The settings the bot takes from ./.env besides the sandbox's own (which override .env), said at start."""
    from dotenv import dotenv_values

    found = dotenv_values(".env") if Path(".env").is_file() else {}
    own = {"DATABASE_URL", "HOST", "PORT", "WEB_CONCURRENCY", "ASSESSBOT_WORK_HOURS", "ASSESSBOT_WORK_DAYS",
           "ASSESSBOT_FORMS", "ASSESSBOT_SCHEDULE_BITABLE", "ASSESSBOT_SCHEDULERS", "ASSESSBOT_ADMINS"}
    taken = sorted(k for k in found if k not in own and not k.startswith("FEISHU_") and k not in os.environ)
    if not taken:
        return ""
    if lang == "zh":
        return f" 另外，机器人读取了 ./.env 中的：{'、'.join(taken)}（沙盒自己的设置优先）。"
    return f" The bot also takes from ./.env: {', '.join(taken)} (the sandbox's own settings come first)."


def _banner(o: console.Options, var: Path, servers_only: bool, lang: str) -> str:
    where = _shown(var)
    if o.longconn:
        how = ("机器人以长连接模式运行，消息和卡片回调经本地网关的连接送达。" if lang == "zh" else
               "The bot runs in long-connection mode: messages and card callbacks reach it over the local gateway's "
               "connection. ")
    else:
        how = ""
    if lang == "zh":
        then = how + ("在另一个终端运行 `assessbot console` 与它对话；Ctrl-C 停止全部。" if servers_only else
                f"你是 {o.name}（{o.user}），正在与机器人{'群聊' if o.group else '单聊'}："
                "试试 /assess 6930815272790114324 pass coding=4，或 :help；:quit 或 Ctrl-C 停止全部。")
        return (f"assessbot 沙盒：本地飞书开放平台在 {o.openapi}（状态保存在 {where}/{STATE_FILE}），机器人在 "
                f"{o.bot} 由 gunicorn 运行（数据库 {where}/{DATABASE}，日志 {where}/{BOT_LOG}），使用一次性密钥，"
                f"不会连接飞书。{then}状态会保留到下次运行（--fresh 从头开始）。")
    then = how + ("Chat with it from another terminal with `assessbot console`; Ctrl-C stops everything."
                  if servers_only else
                  f"You are {o.name} ({o.user}) in a {'group' if o.group else 'private'} chat with the bot: try "
                  "/assess 6930815272790114324 pass coding=4, or :help; :quit or Ctrl-C stops everything.")
    return (f"assessbot sandbox: a local Feishu Open API at {o.openapi} (state in {where}/{STATE_FILE}) and the "
            f"bot under gunicorn at {o.bot} (database {where}/{DATABASE}, logs {where}/{BOT_LOG}), with throw-away "
            f"keys; nothing talks to Feishu. {then} The state is kept for the next run (--fresh starts over).")


def _shown(path: Path) -> str:
    """A path as short as it can be said from here."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- processes ------------------------------------------------------------------------------------------------

def _wait(started: list[subprocess.Popen]) -> None:
    """Until Ctrl-C, or until something we started stops on its own."""
    while True:
        for process in started:
            if process.poll() is not None:
                raise Failed(f"{' '.join(map(str, process.args[:3]))} stopped (status {process.returncode})")
        time.sleep(0.5)


@contextlib.contextmanager
def _children() -> Iterator[list[subprocess.Popen]]:
    """Whatever is appended to the list is stopped on the way out, last started first, whole process groups."""
    started: list[subprocess.Popen] = []
    try:
        yield started
    finally:
        # a second Ctrl-C (or a SIGTERM) must not cut the clean-up short
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            for process in reversed(started):
                processes.stop_group(process, STOP_TIMEOUT)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@contextlib.contextmanager
def _signals_stop() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) stop the sandbox the way Ctrl-C does."""
    def stop(signum: int, frame: object) -> None:
        raise _Signalled

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # a shell starting us in the background may have set SIGINT to be ignored; Ctrl-C must still stop us
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
