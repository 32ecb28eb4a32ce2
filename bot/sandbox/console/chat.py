"""`assessbot console`: chat with the bot from a terminal, as an interviewer in Feishu would.

Each typed line becomes a real `im.message.receive_v1` push, encrypted and signed, POSTed to the bot's
/feishu/events (or, with --longconn, pushed over the bot's long connection by the local Open API's gateway);
the bot's replies are read back from the local Open API and drawn as text. Buttons and forms are clicked and
submitted as real `card.action.trigger` callbacks. Plain input()/print, so it also works through a
pipe or a pseudo-terminal; the I/O is injectable for tests.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.sandbox import seed
from bot.sandbox.console.api import (
    APP_ID,
    APP_SECRET,
    Bot,
    Gateway,
    LocalOpenAPI,
    Unreachable,
    private_chat,
    read_session,
)
from bot.sandbox.console.fill import Cancelled, fill_form, form_value, missing, prefilled
from bot.sandbox.console.mentions import mention
from bot.sandbox.console.render import Button, View, render, toast_line
from bot.sandbox.console.text import describe_state, describe_table, text
from bot.sandbox.push import card_action, message_event
from bot.schedule.files import unreadable

DEFAULT_USER = "ou_interviewer000000000000000000000"
DEFAULT_NAME = "Sandbox Interviewer"
GROUP_CHAT = "oc_sandboxgroup00000000000000000000"
PROMPT = "> "


@dataclass
class Options:
    """Where the bot and the local Open API are, the keys pushes are sealed with, and who is typing."""

    bot: str
    openapi: str
    encrypt_key: str
    token: str
    user: str = DEFAULT_USER
    name: str = DEFAULT_NAME
    group: bool = False
    lang: str = "en"
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    longconn: bool = False  # push over the bot's long connection rather than to /feishu/events
    since: float = 0.0  # messages sent from this time on are news even when the console starts after them


@dataclass
class Shown:
    """A bot message as the console last drew it."""

    message_id: str
    chat_id: str
    card: dict
    view: View = field(default_factory=View)


def configure(parser: argparse.ArgumentParser) -> None:
    """The console's flags; each defaults to the environment, then to a running `assessbot sandbox`."""
    parser.add_argument("--bot", help="the bot's base URL (default: the running sandbox's, else http://127.0.0.1:8000)")
    parser.add_argument("--openapi", help="the local Open API's URL (default: FEISHU_DOMAIN or the running sandbox's)")
    parser.add_argument("--encrypt-key", help="default: FEISHU_ENCRYPT_KEY or the running sandbox's")
    parser.add_argument("--token", help="the Verification Token; default: FEISHU_VERIFICATION_TOKEN or the sandbox's")
    parser.add_argument("--user", default=DEFAULT_USER, help="your open_id (ou_...)")
    parser.add_argument("--name", default=DEFAULT_NAME, help="your name, as the contact directory gives it")
    parser.add_argument("--group", action="store_true", help="talk in a group chat, @-mentioning the bot")
    parser.add_argument("--lang", choices=("zh", "en"), default=default_lang(), help="the language cards are shown in")
    parser.add_argument("--longconn", action="store_true", default=None,
                        help="push over the bot's long connection (default: FEISHU_EVENT_MODE or the sandbox's)")


def default_lang() -> str:
    """Chinese for a Chinese locale, English otherwise."""
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"


def options_from(args: argparse.Namespace) -> Options:
    """Flags first, then the environment, then the session file of a running sandbox, then the defaults."""
    session = {} if os.environ.get("FEISHU_ENCRYPT_KEY") or os.environ.get("FEISHU_EVENT_MODE") else read_session()
    port = os.environ.get("PORT", "8000")
    return Options(
        bot=(args.bot or session.get("bot") or f"http://127.0.0.1:{port}").rstrip("/"),
        openapi=(args.openapi or _loopback_domain() or session.get("openapi") or "").rstrip("/"),
        encrypt_key=args.encrypt_key or os.environ.get("FEISHU_ENCRYPT_KEY") or session.get("encrypt_key") or "",
        token=args.token or os.environ.get("FEISHU_VERIFICATION_TOKEN") or session.get("token") or "",
        user=args.user, name=args.name, group=args.group, lang=args.lang,
        app_id=os.environ.get("FEISHU_APP_ID") or session.get("app_id") or APP_ID,
        app_secret=os.environ.get("FEISHU_APP_SECRET") or session.get("app_secret") or APP_SECRET,
        longconn=bool(getattr(args, "longconn", None) or os.environ.get("FEISHU_EVENT_MODE") == "longconn"
                      or session.get("longconn")))


def _loopback_domain() -> str:
    domain = os.environ.get("FEISHU_DOMAIN", "")
    return domain if domain.startswith(("http://127.", "http://localhost", "http://[::1]")) else ""


def run(args: argparse.Namespace) -> int:
    """`assessbot console`."""
    options = options_from(args)
    needed = (("--openapi", options.openapi),) if options.longconn else (
        ("--openapi", options.openapi), ("--encrypt-key", options.encrypt_key), ("--token", options.token))
    absent = [flag for flag, value in needed if not value]
    if absent:
        print(f"assessbot console: no running sandbox found and {', '.join(absent)} not given.\n"
              "Start everything with `assessbot sandbox` (or `make run` without credentials), or pass the flags "
              "(or FEISHU_DOMAIN, FEISHU_ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN).", file=sys.stderr)
        return 2
    return Console(options).run(intro=True)


class Console:
    """The chat loop: read a line, push it or run a `:command`, show what the bot did."""

    def __init__(self, options: Options, *, read: Callable[[str], str] = input,
                 write: Callable[[str], None] = print, http: requests.Session | None = None,
                 watch: bool = True, wait: float = 15.0, quiet: float = 0.6):
        self.o = options
        self.read, self._write = read, write
        http = http or requests.Session()
        self.bot = Gateway(options.openapi, http) if options.longconn else Bot(options.bot, options.encrypt_key, http)
        self.openapi = LocalOpenAPI(options.openapi, http, options.app_id, options.app_secret)
        self.watch, self.wait, self.quiet = watch, wait, quiet
        self.chats = [private_chat(options.user)] + ([GROUP_CHAT] if options.group else [])
        self.seen: dict[str, int] = {}  # message id -> how many versions of it have been shown
        self.cards: dict[str, Shown] = {}
        self.active: Shown | None = None  # the latest card with buttons or a form: what :click and :fill act on
        self.bot_open_id = ""
        self._lock = threading.RLock()
        self._idle = threading.Event()  # set while the prompt waits: only then may the watcher print
        self._stop = threading.Event()
        self._tty = write is print and sys.stdout.isatty()

    def t(self, key: str, **values: object) -> str:
        """A console text in the chosen language."""
        return text(key, self.o.lang, **values)

    def write(self, text: str) -> None:
        with self._lock:
            self._write(text)

    # -- the loop ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Register the user with the directory, note what is already there, find the bot (group chats)."""
        self.openapi.add_user(self.o.user, self.o.name)
        if self.o.group:
            self.bot_open_id = self.openapi.bot_open_id()
        fresh = [(how, m) for how, m in self._news() if self.o.since and m.get("time", 0) >= self.o.since]
        self._present(fresh)  # messages from earlier sessions are not news; those of this one are

    def run(self, intro: bool = False) -> int:
        """Chat until :quit, end of input or Ctrl-C."""
        if self.read is input and sys.stdin.isatty():
            import readline  # noqa: F401  (line editing and history for input())
        try:
            self.start()
        except Unreachable as exc:
            self.write(self.t("unreachable", what=exc))
            return 1
        if intro:
            chat = self.t("group") if self.o.group else self.t("p2p")
            self.write(self.t("intro", bot=self.o.bot, user=self.o.user, name=self.o.name, chat=chat))
        watcher = threading.Thread(target=self._watch, name="console-watch", daemon=True) if self.watch else None
        if watcher:
            watcher.start()
        try:
            while True:
                self._idle.set()
                try:
                    line = self.read(PROMPT)
                except (EOFError, KeyboardInterrupt):
                    self.write("")
                    break
                finally:
                    self._idle.clear()
                try:
                    if not self.handle(line):
                        break
                except KeyboardInterrupt:  # Ctrl-C at any moment stops, as it does at the prompt
                    self.write(self.t("interrupted"))
                    break
        finally:
            self._stop.set()
        return 0

    def handle(self, line: str) -> bool:
        """One line: a console command (`:…`) or a chat message. False to quit."""
        line = line.strip()
        if not line:
            return True
        try:
            if not line.startswith(":"):
                self.say(line)
                return True
            command, _, rest = line[1:].partition(" ")
            return self.command(command.lower(), rest.split())
        except Unreachable as exc:
            self.write(self.t("unreachable", what=exc))
            return True

    def command(self, name: str, args: list[str]) -> bool:
        if name in ("q", "quit", "exit"):
            return False
        if name in ("h", "help", "?"):
            self.write(self.t("help"))
        elif name in ("c", "click") and len(args) == 1 and args[0].isdigit():
            self.click(int(args[0]))
        elif name in ("f", "fill") and all(a.isdigit() for a in args):
            self.fill([int(a) for a in args])
        elif name in ("s", "state") and len(args) == 1:
            self.write(describe_state(args[0], self.openapi.assessments().get(args[0]), self.o.lang))
        elif name in ("s", "state"):
            self.write(self.t("state_usage"))
        elif name == "send" and len(args) == 1:
            self.send_file(args[0])
        elif name == "send":
            self.write(self.t("send_usage"))
        elif name == "table":
            self.write(describe_table(self.openapi.table(seed.TABLE_APP, seed.TABLE_ID), self.o.lang))
        elif name == "lang" and args in (["zh"], ["en"]):
            self.o.lang = args[0]
            if self.active:
                self.show(self.active, self.t("again"))
        else:
            self.write(self.t("unknown", line=":" + " ".join([name, *args])))
        return True

    # -- talking to the bot --------------------------------------------------------------------------------

    def say(self, typed: str) -> None:
        """Send a chat message as Feishu would push it, then show the bot's answers."""
        message_id, chat_id = "om_" + uuid.uuid4().hex, self.chats[-1]
        mentions: list[dict] = []
        if self.o.group:  # in a group the bot only hears messages that @-mention it
            typed = "@assessbot " + typed
        typed, mentions = mention(typed, self.bot_open_id)
        self.openapi.record(message_id, chat_id, self.o.user, typed)
        payload = message_event(typed, token=self.o.token, sender=self.o.user, chat_id=chat_id,
                                chat_type="group" if self.o.group else "p2p", message_id=message_id,
                                mentions=mentions or None, app_id=self.o.app_id)
        if self._push(payload) is not None:
            self.await_news(self.wait)

    def send_file(self, path: str) -> None:
        """Send a file to the bot as Feishu would push it (in a group, then reply to it with @bot import)."""
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            zh, en = unreadable(exc)
            self.write(self.t("no_file", path=path, why=zh if self.o.lang == "zh" else en))
            return
        message_id, chat_id, name = "om_" + uuid.uuid4().hex, self.chats[-1], Path(path).name
        file_key = self.openapi.record_file(message_id, chat_id, self.o.user, name, data)
        payload = message_event("", token=self.o.token, sender=self.o.user, chat_id=chat_id,
                                chat_type="group" if self.o.group else "p2p", message_id=message_id,
                                app_id=self.o.app_id, message_type="file",
                                content={"file_key": file_key, "file_name": name})
        if self._push(payload) is None:
            return
        if self.o.group:  # a file cannot @-mention the bot: a reply to it asks for the import
            typed, mentions = mention("@assessbot import", self.bot_open_id)
            reply_id = "om_" + uuid.uuid4().hex
            self.openapi.record(reply_id, chat_id, self.o.user, typed)
            self._push(message_event(typed, token=self.o.token, sender=self.o.user, chat_id=chat_id,
                                     chat_type="group", message_id=reply_id, mentions=mentions or None,
                                     app_id=self.o.app_id, parent_id=message_id))
        self.await_news(self.wait)

    def click(self, number: int) -> None:
        """Press button `number` of the latest card that has buttons."""
        shown = self.active
        if shown is None or not 1 <= number <= len(shown.view.buttons):
            self.write(self.t("no_button", n=number))
            return
        button = shown.view.buttons[number - 1]
        if button.form_action == "submit":
            values = prefilled(shown.view.controls)
            if empty := missing(shown.view.controls, values):
                self.write(self.t("required_empty", fields=", ".join(f"({n})" for n in empty)))
                return
            self._callback(shown, button, form_value(shown.view.controls, values))
        elif button.value is None:
            self.write(self.t("inert", label=button.label))
        else:
            self._callback(shown, button, None)

    def fill(self, numbers: list[int]) -> None:
        """Fill in the latest form field by field (all, or the numbered ones), then submit it."""
        shown = self.active
        submit = shown.view.submit if shown else None
        if shown is None or submit is None:
            self.write(self.t("no_form"))
            return
        try:
            values = fill_form(shown.view.controls, numbers, self._ask, self.write, self.o.lang)
        except Cancelled:
            self.write(self.t("not_submitted"))
            return
        self._callback(shown, submit, form_value(shown.view.controls, values))

    def _ask(self, prompt: str) -> str:
        try:
            return self.read(prompt)
        except (EOFError, KeyboardInterrupt):
            self.write("")  # the cursor is still after the prompt
            raise Cancelled from None

    def _callback(self, shown: Shown, button: Button, values: dict | None) -> None:
        """Click as Feishu would: a card.action.trigger with a fresh callback token; show the answer."""
        token = self.openapi.callback_token(shown.message_id)
        payload = card_action(button.value or {}, values, token=self.o.token, operator=self.o.user,
                              message_id=shown.message_id, chat_id=shown.chat_id, callback_token=token,
                              name=button.name or "button", app_id=self.o.app_id)
        answer = self._push(payload)
        if answer is None:
            return
        if isinstance(answer.get("toast"), dict):
            self.write(toast_line(answer["toast"], self.o.lang))
        card = answer.get("card")
        if isinstance(card, dict) and card.get("type") == "raw" and isinstance(card.get("data"), dict):
            shown.card = card["data"]  # Feishu replaces the clicked card with the answer's
            self.show(shown, self.t("in_place"))
        self.await_news(self.quiet)  # a delayed update may follow; later ones are shown as they come

    def _push(self, payload: dict) -> dict | None:
        status, answer = self.bot.push(payload)
        if status == 200:
            return answer
        if status == 413:
            self.write(self.t("too_large", limit=answer.get("limit", "?")))
            return None
        self.write(self.t("refused", status=status, answer=answer))
        return None

    # -- what the bot did ----------------------------------------------------------------------------------

    def await_news(self, timeout: float) -> None:
        """Show what the bot sends: wait up to `timeout` for the first, then until it has been quiet a moment."""
        deadline, last = time.monotonic() + timeout, None
        while True:
            if self._show_news():
                last = time.monotonic()
            now = time.monotonic()
            if last is not None and now - last >= self.quiet:
                return
            if last is None and now >= deadline:
                if timeout >= self.wait:
                    self.write(self.t("no_answer"))
                return
            time.sleep(0.1)

    def _news(self) -> list[tuple[str, dict]]:
        """Bot messages in our chats not yet shown, and new versions of ones that were: (how, message)."""
        found = []
        for chat in self.chats:
            for message in self.openapi.messages(chat):
                if message.get("sender") != "app":
                    continue
                versions = len(message.get("history") or [1])
                seen = self.seen.get(message["message_id"], 0)
                if versions > seen:
                    found.append(("update" if seen else message["history"][0]["via"], message))
                    self.seen[message["message_id"]] = versions
        return found

    def _show_news(self) -> int:
        with self._lock:
            news = self._news()
            self._present(news)
            return len(news)

    def _present(self, news: list[tuple[str, dict]]) -> None:
        with self._lock:
            for how, message in news:
                label = self.t({"reply": "replied", "send": "sent", "update": "updated"}.get(how, "sent"))
                if self.o.group:  # say which of the two chats it landed in
                    label += self.t("in_group" if message["chat_id"] == GROUP_CHAT else "in_private")
                label += "：" if self.o.lang == "zh" else ":"
                if message.get("card") is None:
                    self.write(f"{label}\n  {message.get('text') or ''}")
                    continue
                shown = self.cards.setdefault(message["message_id"],
                                              Shown(message["message_id"], message["chat_id"], message["card"]))
                shown.card = message["card"]
                self.show(shown, label)

    def show(self, shown: Shown, label: str) -> None:
        """Draw a card; a card with buttons or a form becomes the one :click and :fill act on."""
        shown.view = render(shown.card, self.o.lang)
        hint = ""
        if shown.view.submit:
            hint, self.active = self.t("hint_form"), shown
        elif any(b.value is not None for b in shown.view.buttons):
            hint, self.active = self.t("hint_click"), shown
        elif self.active is shown:
            self.active = None
        self.write("\n".join(part for part in (label, shown.view.text, hint) if part))

    def _watch(self) -> None:
        """Show what arrives while the prompt waits: delayed updates, retried writes."""
        if hasattr(signal, "pthread_sigmask"):  # Ctrl-C is for input(), which waits in the main thread
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        while not self._stop.wait(1.0):
            with self._lock:
                if not self._idle.is_set():
                    continue
                try:
                    news = self._news()
                except Unreachable:
                    continue
                if news and self._tty:
                    sys.stdout.write("\r\033[K")  # print over the waiting prompt, then put it back
                self._present(news)
                if news and self._tty:
                    sys.stdout.write(PROMPT + _typed_so_far())
                    sys.stdout.flush()


def _typed_so_far() -> str:
    """What the user had typed at the prompt before something was printed over it (needs readline)."""
    readline = sys.modules.get("readline")
    return readline.get_line_buffer() if readline else ""

