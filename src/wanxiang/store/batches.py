"""Batch jobs in the store: the batch row is the queue of its own walk.

A worker claims a batch with a short lease, lists one page of objects after the batch's cursor,
and commits the children together with the new cursor in one transaction that first re-checks its
lease (on PostgreSQL that UPDATE also locks the row, so writers of one batch take turns). A
worker that dies mid-page commits nothing; the next claim starts from the same cursor. The unique
(batch_id, object_key) index is the last word on duplicates.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from wanxiang.model.batch import Batch, BatchType, ChildCounts
from wanxiang.model.job import Job, JobState
from wanxiang.store.codec import dumps, from_us, to_us
from wanxiang.store.db import is_sqlite
from wanxiang.store.executions import ExecutionStart, cancel_execution_rows, write_execution
from wanxiang.store.jobs import job_row
from wanxiang.store.paging import PageWindow, keyset_page
from wanxiang.store.queue import notify
from wanxiang.store.schema import jobs as jobs_table
from wanxiang.store.schema_flows import batch_items, batches, executions
from wanxiang.store.tx import read, write

b = batches
UNFINISHED = (JobState.SUBMITTED.value, JobState.PAUSE.value)


@dataclass(frozen=True)
class BatchFilter:
    type: str | None = None
    name: str | None = None
    job_id: str | None = None
    workflow_id: str | None = None
    window: PageWindow = PageWindow()


@dataclass(frozen=True)
class WalkClaim:
    batch: Batch
    lease_token: str


@dataclass
class BatchChild:
    """What one object of a page becomes: jobs (Type=Job) or a workflow run (Type=Workflow)."""

    object_key: str
    child_id: str
    jobs: list[Job] = field(default_factory=list)
    execution: ExecutionStart | None = None


def row_to_batch(row: Any) -> Batch:
    body = json.loads(row.body)
    created = from_us(row.create_us)
    assert created is not None
    return Batch(
        job_id=row.job_id,
        bucket_id=row.bucket_id,
        region=row.region,
        name=row.name,
        type=BatchType(row.type),
        state=JobState(row.state),
        input=body.get("input") or {},
        operation=body.get("operation") or {},
        creation_time=created,
        workflow_id=row.workflow_id,
        start_time=from_us(row.start_us),
        end_time=from_us(row.end_us),
        code=row.code,
        message=row.message,
        cursor=row.cursor,
        walk_done=bool(row.walk_done),
        submitted=row.submitted,
    )


@dataclass
class BatchStore:
    engine: Engine

    # -- the API side -----------------------------------------------------------------------------

    def insert(self, batch: Batch) -> None:
        with write(self.engine) as conn:
            conn.execute(
                insert(b).values(
                    job_id=batch.job_id,
                    bucket_id=batch.bucket_id,
                    region=batch.region,
                    name=batch.name,
                    type=batch.type.value,
                    workflow_id=batch.workflow_id,
                    state=batch.state.value,
                    code=batch.code,
                    message=batch.message,
                    create_us=to_us(batch.creation_time),
                    body=dumps({"input": batch.input, "operation": batch.operation}),
                    cursor="",
                    walk_done=0,
                    submitted=0,
                    checked_us=0,
                )
            )

    def get(self, bucket_id: str, job_id: str) -> Batch | None:
        with read(self.engine) as conn:
            row = conn.execute(select(b).where(b.c.bucket_id == bucket_id, b.c.job_id == job_id)).first()
        return row_to_batch(row) if row else None

    def list(self, bucket_id: str, flt: BatchFilter) -> tuple[list[Batch], str]:
        conds = [b.c.bucket_id == bucket_id]
        for column, value in ((b.c.type, flt.type), (b.c.name, flt.name), (b.c.job_id, flt.job_id),
                              (b.c.workflow_id, flt.workflow_id)):
            if value:
                conds.append(column == value)
        rows, token = keyset_page(self.engine, b, conds, flt.window)
        return [row_to_batch(r) for r in rows], token

    def cancel(self, bucket_id: str, job_id: str, now: datetime) -> Batch | None:
        """Stop the walk and cancel the children not yet running; None when there is no such batch.

        One transaction: a page committed after this sees the Cancel state and is refused.
        """
        now_us = to_us(now)
        with write(self.engine) as conn:
            row = conn.execute(select(b).where(b.c.bucket_id == bucket_id, b.c.job_id == job_id)).first()
            if row is None:
                return None
            if JobState(row.state).finished:
                return row_to_batch(row)
            conn.execute(
                update(b).where(b.c.job_id == job_id).values(
                    state=JobState.CANCEL.value, code="Cancel", message="The batch job was canceled.",
                    end_us=now_us, lease_owner=None, lease_expires_us=None,
                )
            )
            _cancel_jobs(conn, jobs_table.c.inventory_trigger_job_id == job_id, now_us)
            run_ids = [r.run_id for r in conn.execute(
                select(executions.c.run_id).where(executions.c.batch_id == job_id, executions.c.state == "Running")
            )]
            cancel_execution_rows(conn, run_ids, now_us)
            row = conn.execute(select(b).where(b.c.job_id == job_id)).first()
        return row_to_batch(row)

    # -- the walk ---------------------------------------------------------------------------------

    def claim_walk(self, now: datetime, lease_seconds: float) -> WalkClaim | None:
        """Take the oldest batch with objects left to walk whose lease is free or lapsed."""
        now_us = to_us(now)
        pick = (
            select(b.c.seq)
            .where(
                b.c.walk_done == 0,
                b.c.state.in_([JobState.SUBMITTED.value, JobState.RUNNING.value]),
                or_(b.c.lease_expires_us.is_(None), b.c.lease_expires_us < now_us),
            )
            .order_by(b.c.seq)
            .limit(1)
        )
        with read(self.engine) as conn:
            # Most calls find nothing: answer those without SQLite's write lock.
            if conn.execute(pick).scalar() is None:
                return None
        if not is_sqlite(self.engine):
            pick = pick.with_for_update(skip_locked=True)
        token = uuid.uuid4().hex
        with write(self.engine) as conn:
            seq = conn.execute(pick).scalar()
            if seq is None:
                return None
            row = conn.execute(
                update(b)
                .where(b.c.seq == seq)
                .values(
                    state=JobState.RUNNING.value,
                    start_us=func.coalesce(b.c.start_us, now_us),
                    lease_owner=token,
                    lease_expires_us=now_us + int(lease_seconds * 1_000_000),
                )
                .returning(*b.c)
            ).first()
        return WalkClaim(row_to_batch(row), token) if row else None

    def commit_page(
        self, batch_id: str, token: str, cursor: str, done: bool, children: Sequence[BatchChild]
    ) -> int:
        """Store one page's children and the new cursor, and give the lease back.

        Returns how many children were new, or -1 when the lease was lost or the batch canceled
        (then nothing is written).
        """
        with write(self.engine) as conn:
            held = conn.execute(
                update(b)
                .where(b.c.job_id == batch_id, b.c.lease_owner == token, b.c.state == JobState.RUNNING.value)
                .values(cursor=cursor, walk_done=1 if done else 0, lease_owner=None, lease_expires_us=None)
            ).rowcount
            if not held:
                return -1
            fresh = _new_children(conn, batch_id, children)
            if fresh:
                conn.execute(
                    insert(batch_items),
                    [{"batch_id": batch_id, "object_key": c.object_key, "child_id": c.child_id} for c in fresh],
                )
                rows = [job_row(job) for c in fresh for job in c.jobs]
                if rows:
                    conn.execute(insert(jobs_table), rows)
                for c in fresh:
                    if c.execution is not None:
                        write_execution(conn, c.execution)
                conn.execute(update(b).where(b.c.job_id == batch_id).values(submitted=b.c.submitted + len(fresh)))
                notify(conn)
            return len(fresh)

    # -- settling ---------------------------------------------------------------------------------

    def settle_candidates(self, now: datetime, limit: int = 20) -> builtins.list[Batch]:
        """Walked batches still Running, least recently checked first (and marked checked)."""
        now_us = to_us(now)
        with read(self.engine) as conn:
            rows = conn.execute(
                select(b)
                .where(b.c.state == JobState.RUNNING.value, b.c.walk_done == 1)
                .order_by(b.c.checked_us)
                .limit(limit)
            ).all()
        if rows:
            with write(self.engine) as conn:
                conn.execute(update(b).where(b.c.seq.in_([r.seq for r in rows])).values(checked_us=now_us))
        return [row_to_batch(r) for r in rows]

    def child_counts(self, batch: Batch) -> ChildCounts:
        if batch.type == BatchType.WORKFLOW:
            query = (
                select(executions.c.state, func.count())
                .where(executions.c.batch_id == batch.job_id)
                .group_by(executions.c.state)
            )
        else:
            query = (
                select(jobs_table.c.state, func.count())
                .where(jobs_table.c.inventory_trigger_job_id == batch.job_id)
                .group_by(jobs_table.c.state)
            )
        with read(self.engine) as conn:
            return ChildCounts({state: int(n) for state, n in conn.execute(query).all()})

    def settle(self, batch_id: str, now: datetime, state: JobState, code: str, message: str) -> bool:
        with write(self.engine) as conn:
            done = conn.execute(
                update(b)
                .where(b.c.job_id == batch_id, b.c.state == JobState.RUNNING.value, b.c.walk_done == 1)
                .values(state=state.value, code=code, message=message, end_us=to_us(now))
            ).rowcount
        return bool(done)

    def items(self, batch_id: str) -> builtins.list[tuple[str, str]]:
        """(object key, child id) of every child, in key order."""
        with read(self.engine) as conn:
            rows = conn.execute(
                select(batch_items.c.object_key, batch_items.c.child_id)
                .where(batch_items.c.batch_id == batch_id)
                .order_by(batch_items.c.object_key)
            ).all()
        return [(r.object_key, r.child_id) for r in rows]


def _new_children(conn: Connection, batch_id: str, children: Sequence[BatchChild]) -> list[BatchChild]:
    if not children:
        return []
    keys = [c.object_key for c in children]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            r.object_key
            for r in conn.execute(
                select(batch_items.c.object_key).where(
                    batch_items.c.batch_id == batch_id, batch_items.c.object_key.in_(keys[start : start + 500])
                )
            )
        )
    return [c for c in children if c.object_key not in known]


def _cancel_jobs(conn: Connection, where: Any, now_us: int) -> None:
    conn.execute(
        update(jobs_table)
        .where(where, jobs_table.c.state.in_(UNFINISHED))
        .values(state=JobState.CANCEL.value, end_us=now_us, code="Cancel", message="The job was canceled.")
    )
