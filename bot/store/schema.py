"""The tables (dedup records, the job outbox, known assessments, audit, the shared rate limit, the schedule, the
people it names, the recruiters' panels, the feedback forms), and the one function that inserts a job row.

Two ids are never mixed up: `assessment_key` is the bot's key of an assessment (Feishu's id when the bot was
given one, else a key of its own until Feishu creates the assessment), `feishu_assessment_id` is Feishu's id.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
)

from bot.contract import NewJob, encode
from bot.store.hot import Statements

metadata = MetaData()

processed = Table(
    "processed_keys", metadata,
    Column("key", String(200), primary_key=True),
    Column("created_at", Float, nullable=False, index=True),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("assessment_key", String(64), index=True),
    Column("version", Integer),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending | running | done | dead | discarded
    Column("stage", String(16), nullable=False, default="start"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", Float, nullable=False),
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    Column("last_error", Text),
    Column("log_id", String(128)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
    Index("ix_jobs_status_updated", "status", "updated_at"),  # a purge finds finished jobs past their TTL
)

assessments = Table(
    "assessments", metadata,
    Column("assessment_key", String(64), primary_key=True),
    Column("owner", String(128)),
    Column("state", Text, nullable=False, default="{}"),
    Column("applied_version", Integer, nullable=False, default=0),
    Column("next_version", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
    Column("form_id", String(128)),  # the rubric version (forms.id) its last write used
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("assessment_key", String(64), index=True),
    Column("action", String(32), nullable=False),
    Column("result", String(16), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("log_id", String(128)),
)

rate_limits = Table(
    "rate_limits", metadata,
    Column("name", String(64), primary_key=True),
    Column("blocked_until", Float, nullable=False, default=0.0),
)

rate_hits = Table(
    "rate_hits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("at", Float, nullable=False, index=True),  # when the call started
    Column("ended_at", Float),  # when its answer came back (None: in flight, or its process died)
)

# A lease one process of the deployment holds at a time (the long connection), with the state it reports.
leases = Table(
    "leases", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128)),  # None: free
    Column("expires_at", Float, nullable=False, default=0.0),
    Column("state_json", Text, nullable=False, default="{}"),
    Column("updated_at", Float, nullable=False, default=0.0),
)


# One interviewer on one external interview: the schedule the bot brings the form by.
assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interview_id", String(64), nullable=False),
    Column("interviewer", String(128), nullable=False),  # open_id
    Column("key", String(64), nullable=False, unique=True),  # the bot's assessment key (assessments table)
    Column("feishu_assessment_id", String(64), index=True),  # Feishu's id: given, or learned when created
    Column("external_id", String(64), nullable=False),  # idempotency key of the create
    Column("candidate", String(200), nullable=False),
    Column("position", String(200)),  # the job the candidate applied for
    Column("round", String(100)),
    Column("start_at", Float, nullable=False),
    Column("end_at", Float, nullable=False),
    Column("recruiter", String(128)),
    Column("application_id", String(64), index=True),
    Column("remind_at", Float),  # the reminder now planned (None: none planned)
    Column("first_reminded_at", Float),
    Column("submitted_at", Float),
    Column("stopped", String(16)),  # not_mine (the recruiter was told), withdrawn or cancelled: reminders stop
    Column("escalated_at", Float),
    Column("form", String(200)),  # the form the schedule chose (its name, or a version's id), None: by the mapping
    Column("form_id", String(128)),  # the form version pinned when the interviewer first opened or wrote it
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("source", String(100), index=True),  # the followed table that states it (bitable:<app>:<table>), if any
    Column("record_id", String(64)),  # its record in that table
    Column("reminded_at", Float),  # when its own reminder last went out (claimed before it is sent)
    Column("digested_on", String(10)),  # the day (YYYY-MM-DD, local) of the last digest that listed it
    UniqueConstraint("interview_id", "interviewer", name="uq_assignment"),
    Index("ix_assignments_interviewer_end", "interviewer", "end_at"),
)

# Schedule files sent to the bot in chat: downloaded and checked by a job, imported when the sender says so.
uploads = Table(
    "uploads", metadata,
    Column("id", String(128), primary_key=True),  # the message that asked: the file's own, or a reply to it
    Column("uploader", String(128), nullable=False),  # open_id
    Column("message_id", String(128), nullable=False),  # the message holding the file
    Column("file_key", String(200)),  # None until that message is read (a reply asking to import it)
    Column("file_name", String(300)),
    Column("target", Text, nullable=False),  # where its cards go: a job target as JSON
    Column("state", String(16), nullable=False),  # received | previewed | importing | imported | dropped | failed
    Column("data", LargeBinary),  # the file, once downloaded (never logged; purged with the upload)
    Column("card_message_id", String(128)),  # the preview's message, updated in place
    Column("result", Text),  # what the import did, as JSON
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
)

# The tables the bot reads schedules from (a followed or imported Bitable), and what it last wrote to each record.
schedule_sources = Table(
    "schedule_sources", metadata,
    Column("source", String(100), primary_key=True),  # bitable:<app_token>:<table_id>
    Column("url", Text, nullable=False),
    Column("status_field", String(200)),  # the column each record's state is written to (None: none)
    Column("synced_at", Float),
    Column("subscribed_at", Float),  # record-changed events asked for
    Column("subscribe_tried_at", Float),
    Column("error", Text),  # the last reading's failure, for doctor and the logs
    Column("updated_at", Float, nullable=False),
)

source_records = Table(
    "source_records", metadata,
    Column("source", String(100), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("written", Text),  # the status last written into the record
    Column("updated_at", Float, nullable=False),
)


# People named by email or mobile in a schedule, as Feishu resolved them (a cache; re-resolved when old).
people = Table(
    "people", metadata,
    Column("ref", String(200), primary_key=True),  # a lowercased email or a mobile as +<country><number>
    Column("open_id", String(128), nullable=False),
    Column("resolved_at", Float, nullable=False),
)


# People's display names as Feishu gave them, for cards built while Feishu waits for an answer (jobs fill it).
names = Table(
    "names", metadata,
    Column("open_id", String(128), primary_key=True),
    Column("name", String(200)),  # None: Feishu would not say (no scope, or not in the app's range)
    Column("fetched_at", Float, nullable=False),
)

# The recruiters' panels: one row per application, counting changes and whether a refresh is queued.
panels = Table(
    "panels", metadata,
    Column("application_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, default=0),  # changes recorded
    Column("queued", Integer, nullable=False, default=0),  # 1: a refresh job waits
    Column("lease_until", Float),  # a runner is updating the cards until then
    Column("nudged_at", Float),
    Column("shared_at", Float),
    Column("summarised_at", Float),
    Column("updated_at", Float, nullable=False),
)

# The cards sent for each application, to update them in place.
panel_messages = Table(
    "panel_messages", metadata,
    Column("application_id", String(64), primary_key=True),
    Column("recipient", String(128), primary_key=True),
    Column("kind", String(16), primary_key=True),  # progress | summary
    Column("message_id", String(128), nullable=False),
    Column("sent_at", Float, nullable=False),
)

# Feedback forms: every version of every form synced from Feishu Hire (an edit in Hire is a new id), and every
# version of the local rubric file the bot has written with, so what was recorded keeps its titles.
forms = Table(
    "forms", metadata,
    Column("id", String(128), primary_key=True),  # Hire's form id (one version), or local-<digest>
    Column("origin", String(8), nullable=False),  # hire | local
    Column("version", Integer),
    Column("name", Text, nullable=False),
    Column("name_en", Text),
    Column("data", Text, nullable=False),  # JSON: the form as Hire listed it, or the local rubric
    Column("current", Integer, nullable=False, default=0),  # 1: the newest as last synced (the local rubric in use)
    Column("seen_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# How the last syncs of the forms went (one row per source, "hire"), for /readyz, doctor and the logs.
form_syncs = Table(
    "form_syncs", metadata,
    Column("source", String(16), primary_key=True),
    Column("ok", Integer, nullable=False),
    Column("synced_at", Float),  # the last success
    Column("failed_at", Float),  # the last failure
    Column("code", Integer),  # Feishu's code of the last failure (None: not reached)
    Column("reason", Text),
    Column("forms", Integer),  # forms listed by the last success
    Column("updated_at", Float, nullable=False),
)

_NEW_JOB = jobs.insert().values(
    {name: bindparam(name) for name in ("kind", "assessment_key", "version", "payload", "status", "stage", "attempts",
                                        "run_after", "created_at", "updated_at")}).returning(jobs.c.id)


def insert_job(conn: Connection, job: NewJob, now: float, version: int | None = None, encoded: str | None = None,
               hot: Statements | None = None) -> int:
    """Queue one job in the caller's transaction; its id. `encoded`: its payload encoded beforehand (outside
    the write lock); `hot`: the database's hot statements, to run on the driver (an acknowledgement)."""
    params = {"kind": job.kind, "assessment_key": job.assessment_key, "version": version,
              "payload": encoded if encoded is not None else encode(job.payload), "status": "pending",
              "stage": "start", "attempts": 0, "run_after": now + job.delay, "created_at": now, "updated_at": now}
    if hot is not None:
        return int(hot.run("new_job", _NEW_JOB, conn, params)[0][0])
    return int(conn.execute(_NEW_JOB, params).scalar_one())
