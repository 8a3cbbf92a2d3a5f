"""batch jobs and workflows

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("bucket_id", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("create_us", sa.BigInteger(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=True),
        sa.Column("end_us", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("walk_done", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_us", sa.BigInteger(), nullable=True),
        sa.Column("checked_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("job_id"),
    )
    op.create_index("ix_batches_bucket_type", "batches", ["bucket_id", "type", "seq"])
    op.create_index("ix_batches_walk", "batches", ["walk_done", "state", "seq"])
    op.create_index("ix_batches_settle", "batches", ["state", "walk_done", "checked_us"])

    op.create_table(
        "batch_items",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("child_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("batch_id", "object_key", name="uq_batch_items_object"),
    )

    op.create_table(
        "workflows",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("bucket_id", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("create_us", sa.BigInteger(), nullable=False),
        sa.Column("update_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("workflow_id"),
    )
    op.create_index("ix_workflows_bucket", "workflows", ["bucket_id", "seq"])
    op.create_index("ix_workflows_bucket_state", "workflows", ["bucket_id", "state"])

    op.create_table(
        "workflow_executions",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("workflow_name", sa.String(256), nullable=False),
        sa.Column("bucket_id", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("trigger_key", sa.String(64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("create_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=True),
        sa.Column("checked_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("run_id"),
        sa.UniqueConstraint("trigger_key"),
    )
    op.create_index("ix_executions_workflow", "workflow_executions", ["workflow_id", "seq"])
    op.create_index("ix_executions_batch", "workflow_executions", ["batch_id", "seq"])
    op.create_index("ix_executions_running", "workflow_executions", ["state", "checked_us"])

    op.create_table(
        "workflow_tasks",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("node_name", sa.String(256), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("run_id", "node_name", name="uq_workflow_tasks_node"),
    )


def downgrade() -> None:
    op.drop_table("workflow_tasks")
    op.drop_table("workflow_executions")
    op.drop_table("workflows")
    op.drop_table("batch_items")
    op.drop_table("batches")
