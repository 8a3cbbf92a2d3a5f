"""Jobs in the store: submit, read, list by keyset, cancel, and the worker's claim/lease/finish.

The job table is the queue. A claim takes the best Submitted job of an Active queue (JobLevel
desc, then arrival) with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, or inside one ``BEGIN
IMMEDIATE`` transaction on SQLite, and stamps it with a fresh lease token. Only the holder of
the current token can renew or finish the job, so a worker whose lease lapsed and was taken over
cannot overwrite the new owner's result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from wanxiang.model.job import Job, JobState
from wanxiang.model.queue import QueueState
from wanxiang.model.tree import Tree
from wanxiang.store import schema
from wanxiang.store.codec import dumps, job_body, row_to_job, to_us
from wanxiang.store.db import is_sqlite
from wanxiang.store.paging import PageWindow, keyset_page
from wanxiang.store.tx import Tx, write

CallbackPlan = Callable[[Job], list["PendingCallback"]]

NOTIFY_CHANNEL = "wanxiang_jobs"
j = schema.jobs


@dataclass(frozen=True)
class JobFilter:
    tag: str | None = None
    queue_id: str | None = None
    workflow_id: str | None = None
    inventory_trigger_job_id: str | None = None
    input_object: str | None = None
    window: PageWindow = PageWindow()


@dataclass(frozen=True)
class Claim:
    job: Job
    lease_token: str


@dataclass(frozen=True)
class PendingCallback:
    """A notification to deliver once a job finishes, written in the finish transaction."""

    event: str
    url: str
    content_type: str
    payload: str


@dataclass
class CancelOutcome:
    found: bool
    state: JobState | None = None
    canceled: bool = False


@dataclass
class JobStore:
    engine: Engine
    # Called after new work becomes claimable (embedded workers sleep on these instead of polling).
    wake_hooks: list[Callable[[], None]] = field(default_factory=list)
    _sqlite: bool = field(init=False)

    def __post_init__(self) -> None:
        self._sqlite = is_sqlite(self.engine)
        self._prepare_worker_statements()

    def _prepare_worker_statements(self) -> None:
        # Built once: the worker path runs these thousands of times a second, and constructing
        # SQLAlchemy statements costs more CPU than PostgreSQL spends executing them.
        q = schema.queues
        # "not in a Paused queue" rather than a join with Active queues: with no join the planner
        # walks the partial Submitted index in claim order and stops at the first row.
        paused = select(q.c.queue_id).where(q.c.queue_id == j.c.queue_id, q.c.state == QueueState.PAUSED.value)
        # The state is written into the SQL, not bound: a partial index is used only when the
        # query's condition visibly matches the index's (SQLite cannot see through a parameter).
        submitted: ColumnElement[str] = literal_column(f"'{JobState.SUBMITTED.value}'")
        pick = (
            select(j.c.seq)
            .where(j.c.state == submitted, ~paused.exists())
            .order_by(j.c.job_level.desc(), j.c.seq.asc())
            .limit(1)
        )
        tagged = pick.where(j.c.tag.in_(bindparam("b_tags", expanding=True)))
        if not self._sqlite:
            pick = pick.with_for_update(skip_locked=True, of=j)
            tagged = tagged.with_for_update(skip_locked=True, of=j)
        take = {
            "state": JobState.RUNNING.value,
            "lease_owner": bindparam("b_token"),
            "lease_expires_us": bindparam("b_expires"),
            "start_us": bindparam("b_now"),
            "attempts": j.c.attempts + 1,
        }

        def claim_from(chooser: Any) -> Any:
            return (
                update(j)
                .where(j.c.seq == chooser.scalar_subquery(), j.c.state == submitted)
                .values(**take)
                .returning(*j.c)
            )

        self._claim_any = claim_from(pick)
        self._claim_tagged = claim_from(tagged)
        held = and_(
            j.c.job_id == bindparam("b_job"), j.c.lease_owner == bindparam("b_token"), j.c.state == JobState.RUNNING.value
        )
        self._renew = (
            update(j)
            .where(held)
            .values(
                lease_expires_us=bindparam("b_expires"),
                progress=func.coalesce(bindparam("b_progress", type_=Integer), j.c.progress),
            )
        )
        self._finish = (
            update(j)
            .where(held)
            .values(
                state=bindparam("b_state"),
                code=bindparam("b_code"),
                message=bindparam("b_message"),
                result=bindparam("b_result"),
                end_us=bindparam("b_end"),
                progress=bindparam("b_progress", type_=Integer),
                lease_owner=None,
                lease_expires_us=None,
            )
            .returning(*j.c)
        )

    def _single(self) -> Any:
        """A connection for one self-contained statement: autocommit on PostgreSQL (no BEGIN and
        COMMIT round trips); on SQLite a write transaction, whose round trips are in-process."""
        if self._sqlite:
            return self._write()
        return _Autocommit(self.engine)

    def _write(self) -> Tx:
        return write(self.engine)

    # -- the API side -------------------------------------------------------------------------

    def insert(self, jobs: Iterable[Job]) -> None:
        rows = [_job_row(job) for job in jobs]
        if not rows:
            return
        with self._write() as conn:
            conn.execute(insert(j), rows)
            if not self._sqlite:
                conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        self.wake()

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
        with self._write() as conn:
            row = conn.execute(
                select(j.c.state).where(j.c.bucket_id == bucket_id, j.c.job_id == job_id)
            ).first()
            if row is None:
                return CancelOutcome(found=False)
            state = JobState(row.state)
            if state not in (JobState.SUBMITTED, JobState.PAUSE):
                return CancelOutcome(found=True, state=state)
            conn.execute(
                update(j)
                .where(j.c.job_id == job_id, j.c.state.in_([JobState.SUBMITTED, JobState.PAUSE]))
                .values(state=JobState.CANCEL, end_us=to_us(now), code="Cancel", message="The job was canceled.")
            )
            return CancelOutcome(found=True, state=JobState.CANCEL, canceled=True)

    # -- the worker side ------------------------------------------------------------------------

    def claim(self, now: datetime, lease_seconds: float, tags: Sequence[str] | None = None) -> Claim | None:
        """Take the best Submitted job of an Active queue: one statement, one round trip."""
        token = uuid.uuid4().hex
        now_us = to_us(now)
        params: dict[str, Any] = {
            "b_token": token,
            "b_expires": now_us + int(lease_seconds * 1_000_000),
            "b_now": now_us,
        }
        statement = self._claim_tagged if tags else self._claim_any
        if tags:
            params["b_tags"] = list(tags)
        with self._single() as conn:
            row = conn.execute(statement, params).first()
        return Claim(row_to_job(row), token) if row else None

    def renew(self, job_id: str, token: str, now: datetime, lease_seconds: float, progress: int | None = None) -> bool:
        params = {
            "b_job": job_id,
            "b_token": token,
            "b_expires": to_us(now) + int(lease_seconds * 1_000_000),
            "b_progress": progress,
        }
        with self._single() as conn:
            return bool(conn.execute(self._renew, params).rowcount)

    def finish(
        self,
        job_id: str,
        token: str,
        now: datetime,
        state: JobState,
        code: str,
        message: str,
        result: Tree,
        callbacks: CallbackPlan | None = None,
    ) -> Job | None:
        """Record the outcome if ``token`` still holds the lease; return the finished job or None.

        Without callbacks this is one statement; with them, the notifications are written in the
        same transaction as the outcome, so a finished job never misses its callback."""
        now_us = to_us(now)
        params = {
            "b_job": job_id,
            "b_token": token,
            "b_state": str(state),
            "b_code": code,
            "b_message": message,
            "b_result": dumps(result),
            "b_end": now_us,
            "b_progress": 100 if state == JobState.SUCCESS else None,
        }
        if callbacks is None:
            with self._single() as conn:
                row = conn.execute(self._finish, params).first()
            return row_to_job(row) if row else None
        with self._write() as conn:
            row = conn.execute(self._finish, params).first()
            if row is None:
                return None
            job = row_to_job(row)
            for cb in callbacks(job):
                conn.execute(
                    insert(schema.callbacks).values(
                        job_id=job_id,
                        event=cb.event,
                        url=cb.url,
                        content_type=cb.content_type,
                        payload=cb.payload,
                        state="Pending",
                        attempts=0,
                        next_attempt_us=now_us,
                        last_error="",
                        create_us=now_us,
                    )
                )
            return job

    def release_expired(self, now: datetime, max_attempts: int = 5) -> int:
        """Give jobs whose worker stopped renewing back to the queue (or fail them after too many tries)."""
        now_us = to_us(now)
        running: ColumnElement[str] = literal_column(f"'{JobState.RUNNING.value}'")  # literal, to match the partial index
        expired = and_(j.c.state == running, j.c.lease_expires_us < now_us)
        with self._write() as conn:
            failed = conn.execute(
                update(j)
                .where(expired, j.c.attempts >= max_attempts)
                .values(
                    state=JobState.FAILED,
                    code="WorkerLost",
                    message=f"The job's worker stopped {max_attempts} times while running it; giving up.",
                    end_us=now_us,
                    lease_owner=None,
                    lease_expires_us=None,
                )
            ).rowcount
            again = conn.execute(
                update(j).where(expired).values(state=JobState.SUBMITTED, lease_owner=None, lease_expires_us=None)
            ).rowcount
            if again and not self._sqlite:
                conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        return int(failed or 0) + int(again or 0)


class _Autocommit:
    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *_: Any) -> None:
        self.conn.close()


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


__all__ = ["JobStore", "JobFilter", "Claim", "PendingCallback", "CancelOutcome", "IntegrityError"]


# Other repositories insert jobs inside their own transactions (batch pages, workflow steps).
job_row = _job_row
