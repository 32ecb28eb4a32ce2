"""The shared rate limit records when each call's answer came back, not only when it started: a call counts
against the limit from its start until a window after its end, so lateness on the way cannot bunch calls.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
COLUMNS = (("rate_hits", "ended_at"),)


def upgrade() -> None:
    op.add_column("rate_hits", sa.Column("ended_at", sa.Float))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
