"""The benchmark's floor: the least any Feishu event endpoint must do, to compare the bot's acknowledgement with.

It checks the signature (and decrypts, to read the event id), records the id with one INSERT OR IGNORE in
SQLite with the bot's pragmas (WAL, synchronous=FULL, BEGIN IMMEDIATE) and answers 200 — nothing else. It runs
under the bot's own gunicorn settings (see `gunicorn_config`), with FEISHU_ENCRYPT_KEY and DATABASE_URL
(sqlite:///path) set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import Flask, Response, request


def create_app() -> Flask:
    """The floor app; reads FEISHU_ENCRYPT_KEY and DATABASE_URL from the environment."""
    from Crypto.Cipher import AES

    encrypt_key = os.environ["FEISHU_ENCRYPT_KEY"]
    path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
    aes_key = hashlib.sha256(encrypt_key.encode()).digest()
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:  # one per thread, opened after the fork
            conn = local.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=FULL")
        return conn

    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS processed_keys (key TEXT PRIMARY KEY, created_at REAL NOT NULL)")
    app = Flask("assessbot-floor")

    @app.post("/feishu/events")
    def events() -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-Lark-Request-Timestamp", "")
        nonce = request.headers.get("X-Lark-Request-Nonce", "")
        given = request.headers.get("X-Lark-Signature", "")
        expected = hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300 or not hmac.compare_digest(
                expected.encode(), given.encode("utf-8", "surrogateescape")):
            return Response('{"error":"unauthorized"}', 401, content_type="application/json")
        sealed = base64.b64decode(json.loads(body)["encrypt"])
        plain = AES.new(aes_key, AES.MODE_CBC, sealed[:16]).decrypt(sealed[16:])
        event_id = json.loads(plain[:-plain[-1]])["header"]["event_id"]
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT OR IGNORE INTO processed_keys (key, created_at) VALUES (?, ?)", (event_id, time.time()))
        conn.execute("COMMIT")
        return Response("{}", 200, content_type="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', 200, content_type="application/json")

    return app


def gunicorn_config(shipped: Path, directory: Path) -> Path:
    """A gunicorn config file with every setting of `shipped` but the hooks that start the bot's background work."""
    path = directory / "floor.gunicorn.conf.py"
    path.write_text(f"""# {shipped}, without the hooks that reach into the bot (the floor has no store or job runner)
exec(compile(open({str(shipped)!r}, encoding="utf-8").read(), {str(shipped)!r}, "exec"))


def post_fork(server, worker):
    pass


def post_worker_init(worker):
    pass
""", encoding="utf-8")
    return path
