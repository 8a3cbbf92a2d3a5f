"""Tables of batch jobs (inventory trigger jobs) and workflows, on the shared ``metadata``.

Unique keys carry the no-duplicates promise: one child per (batch, object key), one run per
upload event (``trigger_key``), one job per (run, node).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from wanxiang.store.schema import jobs, metadata

batches = Table(
    "batches",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False, unique=True),
    Column("bucket_id", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("type", String(16), nullable=False),  # Job or Workflow
    Column("workflow_id", String(64), nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("code", String(128), nullable=False, default="Success"),
    Column("message", Text, nullable=False, default=""),
    Column("create_us", BigInteger, nullable=False),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("body", Text, nullable=False),  # JSON: input and operation as sent
    # The walk: the last key submitted, whether the listing is exhausted, how many children so far.
    Column("cursor", Text, nullable=False, default=""),
    Column("walk_done", Integer, nullable=False, default=0),
    Column("submitted", Integer, nullable=False, default=0),
    Column("lease_owner", String(64)),
    Column("lease_expires_us", BigInteger),
    Column("checked_us", BigInteger, nullable=False, default=0),
    Index("ix_batches_bucket_type", "bucket_id", "type", "seq"),
    Index("ix_batches_walk", "walk_done", "state", "seq"),
    Index("ix_batches_settle", "state", "walk_done", "checked_us"),
)

batch_items = Table(
    "batch_items",
    metadata,
    Column("batch_id", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("child_id", String(64), nullable=False),
    UniqueConstraint("batch_id", "object_key", name="uq_batch_items_object"),
)

workflows = Table(
    "workflows",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False, unique=True),
    Column("bucket_id", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("state", String(16), nullable=False),
    Column("body", Text, nullable=False),  # JSON: the Topology as sent
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Index("ix_workflows_bucket", "bucket_id", "seq"),
    Index("ix_workflows_bucket_state", "bucket_id", "state"),
)

executions = Table(
    "workflow_executions",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("workflow_id", String(64), nullable=False),
    Column("workflow_name", String(256), nullable=False),
    Column("bucket_id", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("state", String(16), nullable=False),
    Column("batch_id", String(64), nullable=False, default=""),
    # Deduplicates upload events: NULL for manual triggers (NULLs never collide).
    Column("trigger_key", String(64), unique=True),
    Column("body", Text, nullable=False),  # JSON: topology snapshot, CosHeaders
    Column("create_us", BigInteger, nullable=False),
    Column("end_us", BigInteger),
    Column("checked_us", BigInteger, nullable=False, default=0),
    Index("ix_executions_workflow", "workflow_id", "seq"),
    Index("ix_executions_batch", "batch_id", "seq"),
    Index("ix_executions_running", "state", "checked_us"),
)

execution_tasks = Table(
    "workflow_tasks",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("node_name", String(256), nullable=False),
    Column("job_id", String(64), nullable=False),
    UniqueConstraint("run_id", "node_name", name="uq_workflow_tasks_node"),
    Index("ix_workflow_tasks_job", "job_id"),
)

# Finished jobs by end time: how workers find the runs whose jobs just finished.
Index("ix_jobs_end", jobs.c.end_us)
