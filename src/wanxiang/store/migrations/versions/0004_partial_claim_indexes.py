"""Partial indexes for the claim and the lease rescue.

A queue table churns: every job passes through Submitted and Running once. Indexes over the whole
table on (state, ...) keep every finished job, and after heavy churn PostgreSQL's statistics
misjudge how many are Submitted and pick a sort over all of them for each claim. Indexes that hold
only Submitted (or Running) jobs stay small and keep the claim one index step.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_claim")
        batch_op.drop_index("ix_jobs_lease")
        batch_op.create_index(
            "ix_jobs_submitted",
            [sa.text("job_level DESC"), "seq"],
            unique=False,
            postgresql_where=sa.text("state = 'Submitted'"),
            sqlite_where=sa.text("state = 'Submitted'"),
        )
        batch_op.create_index(
            "ix_jobs_running_lease",
            ["lease_expires_us"],
            unique=False,
            postgresql_where=sa.text("state = 'Running'"),
            sqlite_where=sa.text("state = 'Running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_running_lease")
        batch_op.drop_index("ix_jobs_submitted")
        batch_op.create_index("ix_jobs_lease", ["state", "lease_expires_us"], unique=False)
        batch_op.create_index("ix_jobs_claim", ["state", sa.text("job_level DESC"), "seq"], unique=False)
