"""The schedule without a shell: files sent in chat wait for their sender's Import (uploads), followed Bitables and
the status written to each record (schedule_sources, source_records), and each assignment's table and record.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
TABLES = ("uploads", "schedule_sources", "source_records")
COLUMNS = (("assignments", "source"), ("assignments", "record_id"))
INDEXES = (("assignments", "ix_assignments_source"), ("uploads", "ix_uploads_updated_at"))


def upgrade() -> None:
    op.add_column("assignments", sa.Column("source", sa.String(100)))
    op.add_column("assignments", sa.Column("record_id", sa.String(64)))
    op.create_index("ix_assignments_source", "assignments", ["source"])
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("uploader", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("file_key", sa.String(200)),
        sa.Column("file_name", sa.String(300)),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary),
        sa.Column("card_message_id", sa.String(128)),
        sa.Column("result", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_uploads_updated_at", "uploads", ["updated_at"])
    op.create_table(
        "schedule_sources",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status_field", sa.String(200)),
        sa.Column("synced_at", sa.Float),
        sa.Column("subscribed_at", sa.Float),
        sa.Column("subscribe_tried_at", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "source_records",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("written", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
