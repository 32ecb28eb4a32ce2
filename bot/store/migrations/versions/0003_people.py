"""People named by email or mobile in a schedule, as Feishu resolved them (a cache).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
TABLES = ("people",)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("open_id", sa.String(128), nullable=False),
        sa.Column("resolved_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
