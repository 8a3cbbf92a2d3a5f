"""Job lists of a whole bucket (every tag), as the console and ``GET /jobs`` without a tag ask.

The tag-less list ``bucket_id = ? ORDER BY seq DESC LIMIT n`` had no index in seq order and
sorted every job of the bucket for each page; with these a page is one index range again.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_bucket_seq", ["bucket_id", "seq"], unique=False)
        batch_op.create_index("ix_jobs_bucket_state", ["bucket_id", "state", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_bucket_state")
        batch_op.drop_index("ix_jobs_bucket_seq")
