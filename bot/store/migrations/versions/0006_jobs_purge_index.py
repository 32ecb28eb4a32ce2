"""An index on jobs by status and last update: a purge finds finished jobs past their TTL without reading the
others (it deletes them in batches, looking each batch up again).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
TABLES = ()
INDEXES = (("jobs", "ix_jobs_status_updated"),)


def upgrade() -> None:
    op.create_index("ix_jobs_status_updated", "jobs", ["status", "updated_at"])


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
