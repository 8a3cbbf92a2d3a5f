"""Workflow executions (runs) and their tasks in the store.

A run's tasks are rows (run_id, node_name) -> job_id with a unique key, so two workers advancing
the same run at once submit each node's job once. An upload-triggered run carries a
``trigger_key`` unique per upload event, so the same event never starts two runs. A run is settled
(and its WorkflowFinish callback queued) by one guarded UPDATE in the callback's transaction.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from wanxiang.model.job import Job, JobState
from wanxiang.model.workflow import Execution
from wanxiang.store import outbox
from wanxiang.store.codec import dumps, from_us, row_to_job, to_us
from wanxiang.store.db import is_sqlite
from wanxiang.store.jobs import job_row
from wanxiang.store.paging import PageWindow, keyset_page
from wanxiang.store.queue import notify
from wanxiang.store.schema import jobs as jobs_table
from wanxiang.store.schema_flows import execution_tasks, executions
from wanxiang.store.tx import read, write

e, t = executions, execution_tasks
UNFINISHED = (JobState.SUBMITTED.value, JobState.PAUSE.value)


@dataclass
class ExecutionStart:
    """A new run: its row, the upload event it answers (None for manual runs), its first tasks."""

    execution: Execution
    trigger_key: str | None = None
    tasks: list[tuple[str, Job]] = field(default_factory=list)


@dataclass(frozen=True)
class ExecutionFilter:
    workflow_id: str
    name: str | None = None
    batch_id: str | None = None
    window: PageWindow = PageWindow()


def row_to_execution(row: Any) -> Execution:
    body = json.loads(row.body)
    created = from_us(row.create_us)
    assert created is not None
    return Execution(
        run_id=row.run_id,
        workflow_id=row.workflow_id,
        workflow_name=row.workflow_name,
        bucket_id=row.bucket_id,
        region=row.region,
        object_key=row.object_key,
        state=JobState(row.state),
        create_time=created,
        topology=body.get("topology") or {},
        batch_id=row.batch_id,
        end_time=from_us(row.end_us),
        cos_headers=body.get("cos_headers") or [],
    )


def write_execution(conn: Connection, start: ExecutionStart) -> None:
    """Insert a run, its first tasks and their jobs inside the caller's transaction."""
    run = start.execution
    conn.execute(
        insert(e).values(
            run_id=run.run_id,
            workflow_id=run.workflow_id,
            workflow_name=run.workflow_name,
            bucket_id=run.bucket_id,
            region=run.region,
            object_key=run.object_key[:1024],
            state=run.state.value,
            batch_id=run.batch_id,
            trigger_key=start.trigger_key,
            body=dumps({"topology": run.topology, "cos_headers": run.cos_headers}),
            create_us=to_us(run.create_time),
            end_us=to_us(run.end_time) if run.end_time else None,
            checked_us=0,
        )
    )
    if start.tasks:
        conn.execute(insert(t), [{"run_id": run.run_id, "node_name": n, "job_id": j.job_id} for n, j in start.tasks])
        conn.execute(insert(jobs_table), [job_row(j) for _, j in start.tasks])


def cancel_execution_rows(conn: Connection, run_ids: Sequence[str], now_us: int) -> None:
    """Cancel runs and those of their jobs not yet running (inside the caller's transaction)."""
    for start in range(0, len(run_ids), 500):
        chunk = list(run_ids[start : start + 500])
        conn.execute(
            update(e).where(e.c.run_id.in_(chunk), e.c.state == JobState.RUNNING.value)
            .values(state=JobState.CANCEL.value, end_us=now_us)
        )
        conn.execute(
            update(jobs_table)
            .where(
                jobs_table.c.job_id.in_(select(t.c.job_id).where(t.c.run_id.in_(chunk))),
                jobs_table.c.state.in_(UNFINISHED),
            )
            .values(state=JobState.CANCEL.value, end_us=now_us, code="Cancel", message="The job was canceled.")
        )


@dataclass
class ExecutionStore:
    engine: Engine

    def start(self, start: ExecutionStart) -> bool:
        """Store a new run; False when its upload event already started one."""
        try:
            with write(self.engine) as conn:
                write_execution(conn, start)
                if start.tasks:
                    notify(conn)
        except IntegrityError:
            return False
        return True

    def get(self, bucket_id: str, run_id: str) -> Execution | None:
        with read(self.engine) as conn:
            row = conn.execute(select(e).where(e.c.bucket_id == bucket_id, e.c.run_id == run_id)).first()
        return row_to_execution(row) if row else None

    def list(self, bucket_id: str, flt: ExecutionFilter) -> tuple[list[Execution], str]:
        conds = [e.c.bucket_id == bucket_id, e.c.workflow_id == flt.workflow_id]
        if flt.name:
            conds.append(e.c.object_key == flt.name)
        if flt.batch_id:
            conds.append(e.c.batch_id == flt.batch_id)
        rows, token = keyset_page(self.engine, e, conds, flt.window)
        return [row_to_execution(r) for r in rows], token

    def tasks(self, run_id: str) -> dict[str, Job]:
        """The run's jobs by node name."""
        with read(self.engine) as conn:
            rows = conn.execute(
                select(t.c.node_name, jobs_table).join(jobs_table, jobs_table.c.job_id == t.c.job_id).where(t.c.run_id == run_id)
            ).all()
        return {row.node_name: row_to_job(row) for row in rows}

    def running(self, now: datetime, limit: int = 20) -> builtins.list[Execution]:
        """Running runs, least recently examined first (and marked examined)."""
        # Read first: an idle worker asks this in every loop and must not take SQLite's write lock.
        with read(self.engine) as conn:
            rows = conn.execute(
                select(e).where(e.c.state == JobState.RUNNING.value).order_by(e.c.checked_us).limit(limit)
            ).all()
        if rows:
            with write(self.engine) as conn:
                conn.execute(update(e).where(e.c.seq.in_([r.seq for r in rows])).values(checked_us=to_us(now)))
        return [row_to_execution(r) for r in rows]

    def touched(self, since: datetime, now: datetime, limit: int = 50) -> builtins.list[Execution]:
        """Running runs never examined, or with a job that ended at or after ``since`` (and mark them)."""
        ended = (
            select(t.c.run_id)
            .join(jobs_table, jobs_table.c.job_id == t.c.job_id)
            .where(jobs_table.c.end_us >= to_us(since))
        )
        query = (
            select(e)
            .where(e.c.state == JobState.RUNNING.value, or_(e.c.checked_us == 0, e.c.run_id.in_(ended)))
            .order_by(e.c.checked_us)
            .limit(limit)
        )
        with read(self.engine) as conn:
            rows = conn.execute(query).all()
        if rows:
            with write(self.engine) as conn:
                conn.execute(update(e).where(e.c.seq.in_([r.seq for r in rows])).values(checked_us=to_us(now)))
        return [row_to_execution(r) for r in rows]

    def add_task(self, run_id: str, node_name: str, job: Job) -> bool:
        """Submit a node's job unless the node already has one or the run is over."""
        ins = (pg_insert(t) if not is_sqlite(self.engine) else sqlite_insert(t)).values(
            run_id=run_id, node_name=node_name, job_id=job.job_id
        ).on_conflict_do_nothing(index_elements=["run_id", "node_name"]).returning(t.c.job_id)
        with write(self.engine) as conn:
            live = conn.execute(
                select(e.c.run_id).where(e.c.run_id == run_id, e.c.state == JobState.RUNNING.value)
            ).first()
            # RETURNING, not rowcount: SQLAlchemy reports -1 (truthy) for an INSERT's rowcount on
            # psycopg, which let a second worker add a duplicate job for the node.
            if live is None or conn.execute(ins).first() is None:
                return False
            conn.execute(insert(jobs_table), [job_row(job)])
            # A job born Failed has no end time to be noticed by: look at the run again.
            conn.execute(update(e).where(e.c.run_id == run_id).values(checked_us=0))
            notify(conn)
        return True

    def settle(self, run_id: str, now: datetime, state: JobState, callbacks: Sequence[outbox.PendingCallback]) -> bool:
        """End a Running run and queue its notifications, once."""
        now_us = to_us(now)
        with write(self.engine) as conn:
            done = conn.execute(
                update(e).where(e.c.run_id == run_id, e.c.state == JobState.RUNNING.value)
                .values(state=state.value, end_us=now_us)
            ).rowcount
            if not done:
                return False
            outbox.enqueue(conn, run_id, callbacks, now_us)
        return True

    def cancel(self, run_ids: Sequence[str], now: datetime) -> None:
        with write(self.engine) as conn:
            cancel_execution_rows(conn, run_ids, to_us(now))
