"""The tables (dedup records, the job outbox, known assessments, audit, the shared rate limit, the schedule and
the people it names) and job rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

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
    Column("assessment_id", String(64), index=True),
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
    Column("assessment_id", String(64), primary_key=True),
    Column("owner", String(128)),
    Column("state", Text, nullable=False, default="{}"),
    Column("applied_version", Integer, nullable=False, default=0),
    Column("next_version", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("assessment_id", String(64), index=True),
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
    Column("at", Float, nullable=False, index=True),
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
    Column("assessment_id", String(64), index=True),  # Feishu's id: given, or learned when created
    Column("external_id", String(64), nullable=False),  # idempotency key of the create
    Column("candidate", String(200), nullable=False),
    Column("job", String(200)),
    Column("round", String(100)),
    Column("start_at", Float, nullable=False),
    Column("end_at", Float, nullable=False),
    Column("recruiter", String(128)),
    Column("application_id", String(64), index=True),
    Column("remind_at", Float),  # the reminder now planned (None: none planned)
    Column("first_reminded_at", Float),
    Column("submitted_at", Float),
    Column("stopped", String(16)),  # "not_mine": reminders stop, the recruiter was told
    Column("escalated_at", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("interview_id", "interviewer", name="uq_assignment"),
    Index("ix_assignments_interviewer_end", "interviewer", "end_at"),
)


# People named by email or mobile in a schedule, as Feishu resolved them (a cache; re-resolved when old).
people = Table(
    "people", metadata,
    Column("ref", String(200), primary_key=True),  # a lowercased email or a mobile as +<country><number>
    Column("open_id", String(128), nullable=False),
    Column("resolved_at", Float, nullable=False),
)


@dataclass(frozen=True)
class NewJob:
    """A job to commit together with an acknowledgement."""

    kind: str
    payload: dict
    assessment_id: str | None = None
    versioned: bool = False  # a write: gets the assessment's next submission version
    delay: float = 0.0  # not claimable by background runners before this many seconds (an inline answer runs it)


@dataclass(frozen=True)
class Job:
    """A claimed job, as the runner sees it."""

    id: int
    kind: str
    assessment_id: str | None
    version: int | None
    payload: dict
    stage: str
    attempts: int
    created_at: float
    lease_owner: str
    slot_at: float | None = None  # when its first rate-limited call may go, if booked with the claim
