"""The tenant's feedback forms: every synced version (and every version of the local rubric written with), how the
syncs went, the form each assignment's schedule chose and the version it pinned, and the version each assessment's
last write used.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
TABLES = ("forms", "form_syncs")
COLUMNS = (("assignments", "form"), ("assignments", "form_id"), ("assessments", "form_id"))


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("current", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "form_syncs",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("ok", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.Float),
        sa.Column("failed_at", sa.Float),
        sa.Column("code", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("forms", sa.Integer),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.add_column("assignments", sa.Column("form", sa.String(200)))
    op.add_column("assignments", sa.Column("form_id", sa.String(128)))
    op.add_column("assessments", sa.Column("form_id", sa.String(128)))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
