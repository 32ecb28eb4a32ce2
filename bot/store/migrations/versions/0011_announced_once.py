"""Each interview announced once a round: when its own reminder last went out, and the day of the digest that
listed it, so a reminder and a digest never tell a person of the same interview on the same day.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
COLUMNS = (("assignments", "reminded_at"), ("assignments", "digested_on"))


def upgrade() -> None:
    op.add_column("assignments", sa.Column("reminded_at", sa.Float))
    op.add_column("assignments", sa.Column("digested_on", sa.String(10)))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
