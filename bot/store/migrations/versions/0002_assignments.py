"""Assignments: one interviewer on one external interview, the schedule reminders follow.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
TABLES = ("assignments",)


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("interview_id", sa.String(64), nullable=False),
        sa.Column("interviewer", sa.String(128), nullable=False),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("assessment_id", sa.String(64), index=True),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("candidate", sa.String(200), nullable=False),
        sa.Column("job", sa.String(200)),
        sa.Column("round", sa.String(100)),
        sa.Column("start_at", sa.Float, nullable=False),
        sa.Column("end_at", sa.Float, nullable=False),
        sa.Column("recruiter", sa.String(128)),
        sa.Column("application_id", sa.String(64), index=True),
        sa.Column("remind_at", sa.Float),
        sa.Column("first_reminded_at", sa.Float),
        sa.Column("submitted_at", sa.Float),
        sa.Column("stopped", sa.String(16)),
        sa.Column("escalated_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("interview_id", "interviewer", name="uq_assignment"),
        sa.Index("ix_assignments_interviewer_end", "interviewer", "end_at"),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
