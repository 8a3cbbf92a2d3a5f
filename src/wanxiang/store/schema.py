"""Table definitions. Times are integer microseconds since the epoch (UTC), portable across dialects.

Every list filter of the API has an index here; the claim path has its own.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, text

metadata = MetaData()

buckets = Table(
    "buckets",
    metadata,
    Column("bucket_id", String(128), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("create_us", BigInteger, nullable=False),
)

queues = Table(
    "queues",
    metadata,
    Column("queue_id", String(64), primary_key=True),
    Column("bucket_id", String(128), nullable=False),
    Column("family", String(32), nullable=False),
    Column("name", String(256), nullable=False),
    Column("state", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("notify_config", Text, nullable=False, default="{}"),
    Column("max_size", Integer, nullable=False, default=10000),
    Column("max_concurrent", Integer, nullable=False, default=10),
    # The limits a user set (NULL: not enforced); MaxConcurrent through queue_slots.
    Column("concurrent_cap", Integer),
    Column("size_cap", Integer),
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Index("ix_queues_bucket_family", "bucket_id", "family"),
)

jobs = Table(
    "jobs",
    metadata,
    # seq orders jobs by arrival: it is the keyset of every list and the tie-break of the claim.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False, unique=True),
    Column("bucket_id", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("queue_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("job_level", Integer, nullable=False, default=0),
    Column("input_object", String(1024), nullable=False, default=""),
    Column("workflow_id", String(64), nullable=False, default=""),
    Column("inventory_trigger_job_id", String(64), nullable=False, default=""),
    Column("create_us", BigInteger, nullable=False),
    Column("start_us", BigInteger),
    Column("end_us", BigInteger),
    Column("code", String(128), nullable=False, default="Success"),
    Column("message", Text, nullable=False, default=""),
    Column("progress", Integer),
    Column("body", Text, nullable=False),  # JSON: input, operation, callback, workflow
    Column("result", Text, nullable=False, default="{}"),  # JSON: result nodes
    Column("lease_owner", String(64)),
    Column("lease_expires_us", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("cancel_us", BigInteger),  # when a user asked a Running job to stop
    Index("ix_jobs_bucket_seq", "bucket_id", "seq"),
    Index("ix_jobs_bucket_state", "bucket_id", "state", "seq"),
    Index("ix_jobs_bucket_tag", "bucket_id", "tag", "seq"),
    Index("ix_jobs_bucket_tag_state", "bucket_id", "tag", "state", "seq"),
    Index("ix_jobs_bucket_queue", "bucket_id", "queue_id", "seq"),
    Index("ix_jobs_bucket_created", "bucket_id", "create_us"),
    Index("ix_jobs_bucket_input", "bucket_id", "input_object", "seq"),
    Index("ix_jobs_workflow", "workflow_id", "seq"),
    Index("ix_jobs_inventory", "inventory_trigger_job_id", "seq"),
    # Partial, as ix_jobs_submitted below: only the jobs a lease rescue can want (migration 0004).
    Index(
        "ix_jobs_submitted_queue",
        "queue_id",
        postgresql_where=text("state = 'Submitted'"),
        sqlite_where=text("state = 'Submitted'"),
    ),
    Index(
        "ix_jobs_running_lease",
        "lease_expires_us",
        postgresql_where=text("state = 'Running'"),
        sqlite_where=text("state = 'Running'"),
    ),
)
# Partial: only the jobs a claim can want (see migration 0004). Declared with
# the column's .desc() rather than text("job_level DESC"): the same DDL, but SQLite's reflection,
# which drops the direction, still compares equal to it (tests/contract/test_schema.py).
Index(
    "ix_jobs_submitted",
    jobs.c.job_level.desc(),
    jobs.c.seq,
    postgresql_where=text("state = 'Submitted'"),
    sqlite_where=text("state = 'Submitted'"),
)

# One row per Running job a capped queue allows (slot 0 .. cap-1; a lowered cap leaves higher
# slots to empty as their jobs end). job_id is the job holding it, NULL when free.
queue_slots = Table(
    "queue_slots",
    metadata,
    Column("queue_id", String(64), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("job_id", String(64)),
    Index(
        "ix_queue_slots_taken",
        "queue_id",
        postgresql_where=text("job_id IS NOT NULL"),
        sqlite_where=text("job_id IS NOT NULL"),
    ),
    Index(
        "ix_queue_slots_job",
        "job_id",
        postgresql_where=text("job_id IS NOT NULL"),
        sqlite_where=text("job_id IS NOT NULL"),
    ),
)

templates = Table(
    "templates",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("template_id", String(64), nullable=False, unique=True),
    Column("bucket_id", String(128), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("category", String(32), nullable=False, default="Custom"),
    Column("body", Text, nullable=False),  # JSON: the tag's params tree
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    Index("ix_templates_bucket_tag", "bucket_id", "tag", "seq"),
    Index("ix_templates_bucket_name", "bucket_id", "name"),
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),  # Pending, Delivered, Failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("lease_owner", String(64)),
    Column("create_us", BigInteger, nullable=False),
    Index("ix_callbacks_due", "state", "next_attempt_us"),
    Index("ix_callbacks_job", "job_id"),
)

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("callback_seq", BigInteger, nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("status", Integer),
    Column("error", Text, nullable=False, default=""),
    Index("ix_callback_attempts_callback", "callback_seq"),
)
