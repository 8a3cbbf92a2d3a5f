"""Queue limits a user set, the running count they are enforced with, and cancel requests of
running jobs.

``concurrent_cap`` and ``size_cap`` are NULL until a user sets MaxConcurrent / MaxSize: the
reported defaults (10, 10000) are not enforced, so a scaled-out pool is never throttled by a
number nobody chose. ``running`` counts the Running jobs of a capped queue; the claim takes a slot
by incrementing it under the queue row's lock, so the cap holds across workers on PostgreSQL.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concurrent_cap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("size_cap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("running", sa.Integer(), nullable=False, server_default="0"))
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
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_submitted_queue")
        batch_op.drop_column("cancel_us")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("running")
        batch_op.drop_column("size_cap")
        batch_op.drop_column("concurrent_cap")
