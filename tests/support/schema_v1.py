"""The schema as its first release created it (a v1 database with a row in every table), and the revisions since."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

from bot.store import make_engine, migrations

V1_TABLES = {"processed_keys", "jobs", "assessments", "audit", "rate_limits", "rate_hits"}


def v1_metadata() -> MetaData:
    """The schema v1 created with create_all (git show 70fab72:bot/storage.py)."""
    md = MetaData()
    Table("processed_keys", md, Column("key", String(200), primary_key=True),
          Column("created_at", Float, nullable=False, index=True))
    Table("jobs", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("kind", String(32), nullable=False), Column("assessment_id", String(64), index=True),
          Column("version", Integer), Column("payload", Text, nullable=False),
          Column("status", String(16), nullable=False, index=True), Column("stage", String(16), nullable=False),
          Column("attempts", Integer, nullable=False), Column("run_after", Float, nullable=False),
          Column("lease_until", Float), Column("lease_owner", String(64)), Column("last_error", Text),
          Column("log_id", String(128)), Column("created_at", Float, nullable=False),
          Column("updated_at", Float, nullable=False, index=True))
    Table("assessments", md, Column("assessment_id", String(64), primary_key=True), Column("owner", String(128)),
          Column("state", Text, nullable=False), Column("applied_version", Integer, nullable=False),
          Column("next_version", Integer, nullable=False), Column("updated_at", Float, nullable=False))
    Table("audit", md, Column("id", Integer, primary_key=True, autoincrement=True), Column("at", Float, nullable=False),
          Column("actor", String(128), nullable=False), Column("assessment_id", String(64), index=True),
          Column("action", String(32), nullable=False), Column("result", String(16), nullable=False),
          Column("detail", Text, nullable=False), Column("log_id", String(128)))
    Table("rate_limits", md, Column("name", String(64), primary_key=True),
          Column("blocked_until", Float, nullable=False))
    Table("rate_hits", md, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("name", String(64), nullable=False), Column("at", Float, nullable=False, index=True))
    return md


def make_v1(url: str) -> None:
    """A v1 database with a row in every table."""
    engine = make_engine(url)
    v1 = v1_metadata()
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(v1.tables["processed_keys"].insert(), {"key": "evt-1", "created_at": 1.0})
        conn.execute(v1.tables["jobs"].insert(), {"kind": "write", "assessment_id": "A1", "version": 1,
                                                  "payload": "{}", "status": "dead", "stage": "start", "attempts": 3,
                                                  "run_after": 1.0, "created_at": 1.0, "updated_at": 2.0,
                                                  "last_error": "1002001", "log_id": "log-1"})
        conn.execute(v1.tables["assessments"].insert(), {"assessment_id": "A1", "owner": "ou_a", "state": "{}",
                                                         "applied_version": 0, "next_version": 1, "updated_at": 1.0})
        conn.execute(v1.tables["audit"].insert(), {"at": 1.0, "actor": "ou_a", "assessment_id": "A1",
                                                   "action": "submit", "result": "ok", "detail": "{}"})
        conn.execute(v1.tables["rate_limits"].insert(), {"name": "feishu", "blocked_until": 0.0})
        conn.execute(v1.tables["rate_hits"].insert(), {"name": "feishu", "at": 1.0})
    engine.dispose()


def all_revisions() -> list[str]:
    return [rev.revision for rev in reversed(list(migrations.scripts().walk_revisions()))]

