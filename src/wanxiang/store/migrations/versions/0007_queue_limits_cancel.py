"""Queue limits a user set, the slots they are enforced with, and cancel requests of running jobs.

``concurrent_cap`` and ``size_cap`` are NULL until a user sets MaxConcurrent / MaxSize: the
reported defaults (10, 10000) are not enforced, so a scaled-out pool is never throttled by a
number nobody chose. A capped queue has one ``queue_slots`` row per allowed Running job; a claim
takes a free one (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so claimers do not queue behind one
hot row), a finish frees it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_slots",
        sa.Column("queue_id", sa.String(64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("queue_id", "slot"),
    )
    with op.batch_alter_table("queue_slots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_queue_slots_taken", ["queue_id"], unique=False,
            postgresql_where=sa.text("job_id IS NOT NULL"), sqlite_where=sa.text("job_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_queue_slots_job", ["job_id"], unique=False,
            postgresql_where=sa.text("job_id IS NOT NULL"), sqlite_where=sa.text("job_id IS NOT NULL"),
        )
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concurrent_cap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("size_cap", sa.Integer(), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_us", sa.BigInteger(), nullable=True))
        # MaxSize is checked by counting a queue's Submitted jobs: this keeps that O(queued).
        batch_op.create_index(
            "ix_jobs_submitted_queue",
            ["queue_id"],
            unique=False,
            postgresql_where=sa.text("state = 'Submitted'"),
            sqlite_where=sa.text("state = 'Submitted'"),
        )


def downgrade() -> None:
    op.drop_table("queue_slots")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_submitted_queue")
        batch_op.drop_column("cancel_us")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("size_cap")
        batch_op.drop_column("concurrent_cap")
