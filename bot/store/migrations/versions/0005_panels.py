"""The recruiters' panels: one row per application, and the cards sent for it (updated in place).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
TABLES = ("panels", "panel_messages")


def upgrade() -> None:
    op.create_table(
        "panels",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("queued", sa.Integer, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("nudged_at", sa.Float),
        sa.Column("shared_at", sa.Float),
        sa.Column("summarised_at", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "panel_messages",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("recipient", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
