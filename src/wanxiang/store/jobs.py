"""Jobs in the store as the API sees them: submit, read, list by keyset, cancel.

The worker's side of the same table (claim, renew, finish, release) is ``wanxiang.store.queue``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from wanxiang.model.job import Job, JobState
from wanxiang.store import schema
from wanxiang.store.codec import job_body, row_to_job, to_us
from wanxiang.store.db import is_sqlite
from wanxiang.store.group_commit import GroupWriter
from wanxiang.store.paging import PageWindow, keyset_page
from wanxiang.store.queue import notify
from wanxiang.store.tx import Tx, write

j = schema.jobs
_INSERT = insert(j)  # built once; compiled once per connection by SQLAlchemy's cache


def _insert_requests(conn: Connection, requests: Sequence[tuple[Sequence[dict[str, Any]], bool]]) -> None:
    """Every request's rows inserted together, after each bounded request's queue room is checked
    (counting the requests before it in this transaction); one notify for them all."""
    _check_rooms(conn, [rows for rows, bounded in requests if bounded])
    rows = [row for rows, _ in requests for row in rows]
    if conn.dialect.name == "sqlite":
        # Many rows a statement: SQLite steps it once, so the writer thread gives up the GIL (and
        # waits to get it back from the busy event loop) once per statement, not once per row.
        for first in range(0, len(rows), _SQLITE_ROWS):
            chunk = rows[first : first + _SQLITE_ROWS]
            conn.exec_driver_sql(_sqlite_insert(len(chunk)), tuple(row[name] for row in chunk for name in COLUMNS))
    else:
        conn.execute(_INSERT, rows)
    notify(conn)


# The jobs columns a new job sets (the keys of job_row), in the order of the SQLite insert.
COLUMNS = (
    "job_id", "bucket_id", "region", "tag", "queue_id", "state", "job_level", "input_object", "workflow_id",
    "inventory_trigger_job_id", "create_us", "code", "message", "body", "result", "attempts",
)  # fmt: skip
_SQLITE_ROWS = 999 // len(COLUMNS)  # SQLite before 3.32 allows 999 parameters a statement


@functools.lru_cache(maxsize=_SQLITE_ROWS)
def _sqlite_insert(count: int) -> str:
    row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES " + ", ".join([row] * count)


@dataclass(frozen=True)
class JobFilter:
    tag: str | None = None
    queue_id: str | None = None
    workflow_id: str | None = None
    inventory_trigger_job_id: str | None = None
    input_object: str | None = None
    window: PageWindow = PageWindow()


class QueueFull(Exception):
    def __init__(self, queue_id: str, cap: int) -> None:
        super().__init__(f"queue {queue_id} holds its MaxSize of {cap} Submitted jobs")
        self.queue_id = queue_id
        self.cap = cap


@dataclass
class CancelOutcome:
    found: bool
    state: JobState | None = None
    canceled: bool = False  # it ended Cancel now (it had not started)
    requested: bool = False  # it is Running: its worker is asked to stop it


@dataclass
class JobStore:
    engine: Engine
    # Called after new work becomes claimable (embedded workers sleep on these instead of polling).
    wake_hooks: list[Callable[[], None]] = field(default_factory=list)
    # SQLite: submits from every thread committed together by one writer (store/group_commit.py)
    _group: GroupWriter | None = None
    _group_lock: threading.Lock = field(default_factory=threading.Lock)

    def _write(self) -> Tx:
        return write(self.engine)

    def insert(self, jobs: Iterable[Job], *, bounded: bool = False) -> None:
        """Store new jobs; returns once they are committed. ``bounded``: refuse them all
        (QueueFull) if they would take a queue past the MaxSize its user set."""
        rows = [_job_row(job) for job in jobs]  # built before any transaction starts
        if not rows:
            return
        if is_sqlite(self.engine):
            self._writer().write((rows, bounded))  # the writer wakes the workers, once per batch
            return
        with self._write() as conn:
            _insert_requests(conn, [(rows, bounded)])
        self.wake()

    async def insert_async(self, jobs: Sequence[Job], *, bounded: bool = False) -> None:
        """``insert`` for the event loop: on SQLite it awaits the group commit without holding a
        thread of the pool while the batch in progress commits; elsewhere ``insert`` in a thread."""
        if not is_sqlite(self.engine):
            await anyio.to_thread.run_sync(functools.partial(self.insert, jobs, bounded=bounded))
            return
        rows = [_job_row(job) for job in jobs]
        if rows:
            await self._writer().write_async((rows, bounded))

    def _writer(self) -> GroupWriter:
        if self._group is None:
            with self._group_lock:
                if self._group is None:
                    self._group = GroupWriter(self.engine, _insert_requests, after_commit=self.wake)
        return self._group

    def close(self) -> None:
        if self._group is not None:
            self._group.close()

    def wake(self) -> None:
        for hook in self.wake_hooks:
            hook()

    def get_many(self, bucket_id: str, job_ids: Sequence[str]) -> list[Job]:
        if not job_ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(j).where(j.c.bucket_id == bucket_id, j.c.job_id.in_(job_ids))).all()
        found = {row.job_id: row_to_job(row) for row in rows}
        return [found[i] for i in job_ids if i in found]

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(j).where(j.c.job_id == job_id)).first()
        return row_to_job(row) if row else None

    def list(self, bucket_id: str, flt: JobFilter) -> tuple[list[Job], str]:
        """One page and the NextToken of the next ('' when there is none). Costs O(page)."""
        conds = [j.c.bucket_id == bucket_id]
        if flt.tag:
            conds.append(j.c.tag == flt.tag)
        if flt.queue_id:
            conds.append(j.c.queue_id == flt.queue_id)
        if flt.workflow_id:
            conds.append(j.c.workflow_id == flt.workflow_id)
        if flt.inventory_trigger_job_id:
            conds.append(j.c.inventory_trigger_job_id == flt.inventory_trigger_job_id)
        if flt.input_object:
            conds.append(j.c.input_object == flt.input_object)
        rows, token = keyset_page(self.engine, j, conds, flt.window)
        return [row_to_job(r) for r in rows], token

    def cancel(self, bucket_id: str, job_id: str, now: datetime) -> CancelOutcome:
        """Cancel a job that has not started; ask a Running one to stop (its worker sees the
        request when it next renews its lease, and ends it Cancel unless it finished first)."""
        with self._write() as conn:
            row = conn.execute(
                select(j.c.state).where(j.c.bucket_id == bucket_id, j.c.job_id == job_id)
            ).first()
            if row is None:
                return CancelOutcome(found=False)
            state = JobState(row.state)
            if state == JobState.RUNNING:
                asked = conn.execute(
                    update(j)
                    .where(j.c.job_id == job_id, j.c.state == JobState.RUNNING)
                    .values(cancel_us=func.coalesce(j.c.cancel_us, to_us(now)))
                ).rowcount
                if asked:
                    return CancelOutcome(found=True, state=state, requested=True)
                # It finished between the read and the update: it keeps its outcome.
                state = JobState(conn.execute(select(j.c.state).where(j.c.job_id == job_id)).scalar_one())
            if state not in (JobState.SUBMITTED, JobState.PAUSE):
                return CancelOutcome(found=True, state=state)
            conn.execute(
                update(j)
                .where(j.c.job_id == job_id, j.c.state.in_([JobState.SUBMITTED, JobState.PAUSE]))
                .values(state=JobState.CANCEL, end_us=to_us(now), code="Cancel", message="The job was canceled.")
            )
            return CancelOutcome(found=True, state=JobState.CANCEL, canceled=True)


q = schema.queues
# Built once: a statement built per call costs more in SQLAlchemy than the query costs in SQLite.
_CAPS = (
    select(q.c.queue_id, q.c.size_cap)
    .where(q.c.queue_id.in_(bindparam("queue_ids", expanding=True)), q.c.size_cap.is_not(None))
    .order_by(q.c.queue_id)
)
_CAPS_LOCKED = _CAPS.with_for_update()
_QUEUED = select(func.count()).select_from(j).where(j.c.queue_id == bindparam("queue_id"), text("jobs.state = 'Submitted'"))


def _check_rooms(conn: Connection, requests: Sequence[Sequence[dict[str, Any]]]) -> None:
    """QueueFull for the first request (in order) that would take a queue past its MaxSize."""
    if not requests:
        return
    queue_ids = sorted({row["queue_id"] for rows in requests for row in rows})
    # The capped queues' rows locked first (in one order, on PostgreSQL), the counts in later
    # statements: their snapshot then sees every submit that held the lock before us.
    pick = _CAPS_LOCKED if conn.dialect.name == "postgresql" else _CAPS
    caps = {queue_id: int(cap) for queue_id, cap in conn.execute(pick, {"queue_ids": queue_ids})}
    if not caps:
        return
    room = {queue_id: cap - conn.execute(_QUEUED, {"queue_id": queue_id}).scalar_one() for queue_id, cap in caps.items()}
    for rows in requests:
        adding = Counter(row["queue_id"] for row in rows if row["queue_id"] in caps)
        for queue_id, count in sorted(adding.items()):
            if count > room[queue_id]:
                raise QueueFull(queue_id, caps[queue_id])
        for queue_id, count in adding.items():
            room[queue_id] -= count


def _job_row(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "bucket_id": job.bucket_id,
        "region": job.region,
        "tag": job.tag,
        "queue_id": job.queue_id,
        "state": str(job.state),
        "job_level": job.job_level,
        "input_object": job.input_object[:1024],
        "workflow_id": job.workflow_id,
        "inventory_trigger_job_id": job.inventory_trigger_job_id,
        "create_us": to_us(job.creation_time),
        "code": job.code,
        "message": job.message,
        "body": job_body(job),
        "result": json.dumps(job.result),
        "attempts": 0,
    }


__all__ = ["JobStore", "JobFilter", "CancelOutcome", "QueueFull", "IntegrityError"]


# Other repositories insert jobs inside their own transactions (batch pages, workflow steps).
job_row = _job_row
