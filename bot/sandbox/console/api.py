"""What the console talks to: the bot's event endpoint (as Feishu pushes) and the local Open API's admin side."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.sandbox.push import sealed

SESSION_FILE = Path("var") / "sandbox-session.json"  # written by `assessbot sandbox` for consoles started later
APP_ID, APP_SECRET = "cli_sandbox", "sandbox-secret"  # the local Open API's defaults


class Unreachable(Exception):
    """The bot or the local Open API did not answer; the message says which and where."""


def private_chat(open_id: str) -> str:
    """The chat the local Open API files everything sent to this person under (see bot.sandbox.openapi.messages)."""
    return "oc_" + hashlib.sha256(open_id.encode()).hexdigest()[:32]


@dataclass
class Bot:
    """The bot's event endpoint, reached exactly as Feishu reaches it: encrypted, signed pushes."""

    url: str
    encrypt_key: str
    http: requests.Session

    def push(self, payload: dict) -> tuple[int, dict]:
        """POST one push to /feishu/events; the status and the JSON answer."""
        body, headers = sealed(payload, self.encrypt_key)
        try:
            response = self.http.post(f"{self.url}/feishu/events", data=body, headers=headers, timeout=10)
        except requests.RequestException as exc:
            raise Unreachable(f"bot {self.url}: {type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}


@dataclass
class Gateway:
    """The bot's long connection, reached as Feishu reaches it: the local Open API's gateway pushes over it."""

    openapi: str
    http: requests.Session

    def push(self, payload: dict) -> tuple[int, dict]:
        """Push one event or callback over the connection; 200 and the bot's answer, or the gateway's error."""
        try:
            response = self.http.post(f"{self.openapi}/_sandbox/longconn", json={"payload": payload, "timeout": 10},
                                      timeout=15)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unreachable(f"local Open API {self.openapi}: {type(exc).__name__}") from None
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code == 200:
            return 200, answer.get("answer") if isinstance(answer.get("answer"), dict) else {}
        return response.status_code, answer


@dataclass
class LocalOpenAPI:
    """The sandbox Open API's admin endpoints (/_sandbox/...) and the two Feishu calls the console needs."""

    url: str
    http: requests.Session
    app_id: str = APP_ID
    app_secret: str = APP_SECRET

    def record(self, message_id: str, chat_id: str, sender: str, text: str) -> None:
        """Tell the Open API about a message the user sent, so the bot's reply has a parent."""
        self._call("POST", "/_sandbox/messages",
                   {"message_id": message_id, "chat_id": chat_id, "sender": sender, "text": text})

    def record_file(self, message_id: str, chat_id: str, sender: str, file_name: str, data: bytes) -> str:
        """Tell the Open API about a file the user sent, so the bot can download it; its file_key."""
        import base64

        return str(self._call("POST", "/_sandbox/files", {
            "message_id": message_id, "chat_id": chat_id, "sender": sender, "file_name": file_name,
            "content_b64": base64.b64encode(data).decode()})["file_key"])

    def table(self, app_token: str, table_id: str) -> dict | None:
        """A Bitable table the Open API holds ({fields, records}), or None."""
        try:
            found = self._call("GET", f"/_sandbox/bitable?app_token={app_token}&table_id={table_id}")
        except Unreachable:
            return None
        return found if "records" in found else None

    def add_contacts(self, contacts: dict[str, str]) -> None:
        """Let the contact directory find these people (email or mobile -> open_id)."""
        self._call("POST", "/_sandbox/contacts", contacts)

    def put_table(self, app_token: str, table_id: str, fields: list[dict], records: dict[str, dict]) -> None:
        self._call("POST", "/_sandbox/bitable", {"app_token": app_token, "table_id": table_id, "fields": fields,
                                                  "records": records})

    def messages(self, chat_id: str) -> list[dict]:
        return self._call("GET", f"/_sandbox/messages?chat_id={chat_id}").get("messages", [])

    def assessments(self) -> dict[str, dict]:
        return self._call("GET", "/_sandbox/state").get("assessments", {})

    def callback_token(self, message_id: str) -> str:
        """A `c-…` token for a card, as Feishu puts in every card.action.trigger."""
        return str(self._call("POST", "/_sandbox/callback_tokens", {"message_id": message_id})["token"])

    def add_user(self, open_id: str, name: str) -> None:
        """Put the person in the contact directory, so the bot can name them."""
        self._call("POST", "/_sandbox/users", {open_id: name})

    def bot_open_id(self) -> str:
        """The bot's open_id, as GET /open-apis/bot/v3/info reports it (with a tenant token)."""
        token = self._call("POST", "/open-apis/auth/v3/tenant_access_token/internal",
                           {"app_id": self.app_id, "app_secret": self.app_secret}).get("tenant_access_token")
        if not token:
            raise Unreachable(f"local Open API {self.url}: it did not accept app id {self.app_id}")
        info = self._call("GET", "/open-apis/bot/v3/info", headers={"Authorization": f"Bearer {token}"})
        return str((info.get("bot") or {}).get("open_id") or "")

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        try:
            response = self.http.request(method, self.url + path, json=body, headers=headers, timeout=10)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unreachable(f"local Open API {self.url}: {type(exc).__name__}") from None
        if not isinstance(answer, dict):
            raise Unreachable(f"local Open API {self.url}: unexpected answer to {method} {path}")
        if response.status_code >= 400 and "error" in answer:
            raise Unreachable(f"local Open API {self.url}: {answer['error']}")
        return answer


def read_session(path: Path = SESSION_FILE) -> dict:
    """What a running `assessbot sandbox` wrote about itself, or {} when none is running."""
    try:
        session = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(session["pid"]), 0)  # a sandbox killed outright leaves its file behind
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return session if isinstance(session, dict) else {}


def write_session(session: dict, path: Path = SESSION_FILE) -> None:
    """Write the session file readable by this user only: it holds the throw-away keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(session, f, indent=2)
