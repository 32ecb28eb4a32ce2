"""Names that say one thing: the bot's key of an assessment is `assessment_key` in every table, Feishu's id is
`feishu_assessment_id`, a candidate's position is `position` (never `job`, which the outbox means); and a cache
of people's names, so cards built while Feishu waits for an answer need no call to Feishu.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
TABLES = ("names",)
COLUMNS = (("jobs", "assessment_key"), ("assessments", "assessment_key"), ("audit", "assessment_key"),
           ("assignments", "feishu_assessment_id"), ("assignments", "position"))
# (table, old column, new column, old index, new index)
RENAMES = (("jobs", "assessment_id", "assessment_key", "ix_jobs_assessment_id", "ix_jobs_assessment_key"),
           ("assessments", "assessment_id", "assessment_key", None, None),
           ("audit", "assessment_id", "assessment_key", "ix_audit_assessment_id", "ix_audit_assessment_key"),
           ("assignments", "assessment_id", "feishu_assessment_id", "ix_assignments_assessment_id",
            "ix_assignments_feishu_assessment_id"),
           ("assignments", "job", "position", None, None))


def upgrade() -> None:
    # RENAME COLUMN keeps the data and every index (SQLite 3.25+, PostgreSQL); the indexes are then renamed too.
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, old, new, old_index, new_index in RENAMES:
        op.execute(f'ALTER TABLE {table} RENAME COLUMN "{old}" TO "{new}"')
        if old_index is None:
            continue
        if postgresql:
            op.execute(f"ALTER INDEX {old_index} RENAME TO {new_index}")
        else:
            op.drop_index(old_index, table_name=table)
            op.create_index(new_index, table, [new])
    op.create_table(
        "names",
        sa.Column("open_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("fetched_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: restore the backup taken before the upgrade")
