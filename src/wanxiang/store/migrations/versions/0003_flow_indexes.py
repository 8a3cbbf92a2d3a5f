"""indexes that let workers find workflow runs whose jobs just finished

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_end", "jobs", ["end_us"])
    op.create_index("ix_workflow_tasks_job", "workflow_tasks", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_tasks_job", "workflow_tasks")
    op.drop_index("ix_jobs_end", "jobs")
