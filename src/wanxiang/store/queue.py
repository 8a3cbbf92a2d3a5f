"""The queue a worker sees: claim, renew, finish, release. The SQL is in ``queue.sql``.

A claim takes the best Submitted job of an Active queue and stamps it with a fresh lease token,
in one statement: ``FOR UPDATE SKIP LOCKED`` in autocommit on PostgreSQL, one ``BEGIN IMMEDIATE``
transaction on SQLite. Only the holder of the current token can renew or finish the job; a renewal
also tells the worker when a user asked the job to stop (``Lease.CANCEL_REQUESTED``).

A queue whose user set MaxConcurrent has that many slots (``queue_slots``): a claim takes a free
one, a finish or a lease rescue frees it; ``set_slots`` makes them when a user sets the cap.

``notify(conn)`` is the one place that tells sleeping PostgreSQL workers new work is claimable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, insert, select, text, update

from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import Tree
from wanxiang.store import outbox, schema
from wanxiang.store.codec import dumps, row_to_job, to_us
from wanxiang.store.db import is_sqlite
from wanxiang.store.tx import write

NOTIFY_CHANNEL = "wanxiang_jobs"
QUERIES = Path(__file__).with_name("queue.sql")
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")


def notify(conn: Connection) -> None:
    """Wake workers that LISTEN (PostgreSQL), sent inside the caller's transaction so that it goes
    out only when the new work commits. SQLite workers poll, or ring the in-process doorbell."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY)


def load_queries(dialect: str) -> dict[str, str]:
    """The named statements of ``queue.sql`` for ``dialect`` (a ``<name>@<dialect>`` block replaces
    ``<name>``), with the claim also narrowed by Tag (``claim_tagged``)."""
    named: dict[str, str] = {}
    variants: dict[str, str] = {}
    for block in re.split(r"^-- name: ", QUERIES.read_text(), flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        sql = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--")).strip()
        base, _, only = name.strip().partition("@")
        if not only:
            named[base] = sql
        elif only == dialect:
            variants[base] = sql
    named.update(variants)
    claim, hold = named.pop("claim"), named.pop("hold_filter")
    for suffix, hold_filter in (("", ""), ("_dev", hold)):  # _dev: skips jobs a manual test mode holds
        named["claim" + suffix] = claim.format(tag_filter="", hold_filter=hold_filter)
        named["claim_tagged" + suffix] = claim.format(tag_filter="AND jobs.tag IN :tags", hold_filter=hold_filter)
    return named


def set_slots(conn: Connection, queue_id: str, cap: int) -> None:
    """Give a queue ``cap`` slots, in the caller's transaction (which holds the queue row): the
    slots below the cap exist, free ones above it go, and jobs already Running in the queue hold
    one each (above the cap when they are more than it allows, until they end)."""
    slots = schema.queue_slots
    held = {
        row.slot: row.job_id
        for row in conn.execute(select(slots.c.slot, slots.c.job_id).where(slots.c.queue_id == queue_id))
    }
    missing = [n for n in range(cap) if n not in held]
    if missing:
        conn.execute(insert(slots), [{"queue_id": queue_id, "slot": n, "job_id": None} for n in missing])
    conn.execute(delete(slots).where(slots.c.queue_id == queue_id, slots.c.slot >= cap, slots.c.job_id.is_(None)))
    holders = {job_id for job_id in held.values() if job_id is not None}
    running = conn.execute(
        select(schema.jobs.c.job_id).where(schema.jobs.c.queue_id == queue_id, text("jobs.state = 'Running'"))
    ).scalars()
    free = sorted(n for n in range(cap) if held.get(n) is None)
    extra = max([cap - 1, *held]) + 1
    for job_id in running:
        if job_id in holders:
            continue
        if free:
            conn.execute(
                update(slots).where(slots.c.queue_id == queue_id, slots.c.slot == free.pop(0)).values(job_id=job_id)
            )
        else:
            conn.execute(insert(slots).values(queue_id=queue_id, slot=extra, job_id=job_id))
            extra += 1


_STATEMENTS: dict[str, dict[str, TextClause]] = {}


def _statements(dialect: str) -> dict[str, TextClause]:
    # Built once per dialect: the worker path runs these thousands of times a second.
    if dialect not in _STATEMENTS:
        built = {name: text(sql) for name, sql in load_queries(dialect).items()}
        for name in ("claim_tagged", "claim_tagged_dev"):
            built[name] = built[name].bindparams(bindparam("tags", expanding=True))
        built["free_slots"] = built["free_slots"].bindparams(bindparam("job_ids", expanding=True))
        _STATEMENTS[dialect] = built
    return _STATEMENTS[dialect]


CANCELED = "The job was canceled."


class Lease(Enum):
    """What a renewal found."""

    HELD = "held"
    LOST = "lost"  # the lease lapsed and another worker may own the job now
    CANCEL_REQUESTED = "cancel"  # still held, and a user asked the job to stop

    def __bool__(self) -> bool:
        """True while the lease is held, as the plain renewal answer used to be."""
        return self is not Lease.LOST


@dataclass(frozen=True)
class Claim:
    job: Job
    lease_token: str
    attempt: int = 1  # 2 and more: the job was run before and given back


# The statements a busy PostgreSQL worker runs per job. They go to psycopg directly: SQLAlchemy's
# execution and result setup cost ~0.27 ms of CPU per statement (3x the driver's own), which on
# a machine shared with the database is most of a no-op job's claim+finish.
_DRIVER_PATH = ("claim", "claim_dev", "renew", "finish")


def _psycopg_form(sql: str) -> str:
    """``:name`` binds as psycopg's ``%(name)s`` (``::type`` casts left alone, ``%`` doubled)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


@dataclass
class JobQueue:
    engine: Engine
    _sqlite: bool = field(init=False)
    _sql: dict[str, TextClause] = field(init=False)
    _driver_sql: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self._sqlite = is_sqlite(self.engine)
        self._sql = _statements(self.engine.dialect.name)
        self._driver_sql = {} if self._sqlite else {name: _psycopg_form(self._sql[name].text) for name in _DRIVER_PATH}

    def _driver_row(self, name: str, params: dict[str, Any]) -> Any:
        """One statement of ``_DRIVER_PATH`` in autocommit on a pooled psycopg connection: its
        first row (attributes named as the columns, as SQLAlchemy's rows have) or None."""
        from psycopg.rows import namedtuple_row

        pooled = self.engine.raw_connection()
        conn: Any = pooled.driver_connection  # a psycopg.Connection
        try:
            conn.autocommit = True
            try:
                with conn.cursor(row_factory=namedtuple_row) as cursor:
                    cursor.execute(self._driver_sql[name], params)
                    return cursor.fetchone()
            finally:
                if not conn.closed:
                    conn.autocommit = False
        except Exception:
            if conn.closed or conn.broken:
                pooled.invalidate()  # a dropped connection is not handed to the next caller
            raise
        finally:
            pooled.close()

    def _single(self) -> Any:
        """A connection for one self-contained statement: autocommit on PostgreSQL (no BEGIN and
        COMMIT round trips); on SQLite a write transaction, whose round trips are in-process."""
        if self._sqlite:
            return write(self.engine)
        return _Autocommit(self.engine)

    def claim(
        self, now: datetime, lease_seconds: float, tags: Sequence[str] | None = None, *, dev: bool = False
    ) -> Claim | None:
        """Take the best Submitted job of an Active queue with a free slot: one statement, one
        round trip (on SQLite a second, in-process, when the queue has a cap). ``dev``: skip jobs
        a manual test mode holds."""
        token = uuid.uuid4().hex
        now_us = to_us(now)
        params: dict[str, Any] = {"token": token, "expires": now_us + int(lease_seconds * 1_000_000), "now": now_us}
        suffix = "_dev" if dev else ""
        statement = self._sql["claim" + suffix]
        if tags:
            statement = self._sql["claim_tagged" + suffix]
            params["tags"] = list(tags)
        if not self._sqlite and not tags:
            row = self._driver_row("claim" + suffix, params)
            if row is None:  # see below: a second look
                row = self._driver_row("claim" + suffix, params)
            return Claim(row_to_job(row), token, int(row.attempts or 1)) if row else None
        with self._single() as conn:
            row = conn.execute(statement, params).first()
            if row is None and not self._sqlite:
                # The candidate's queue may have lost its last slot to another worker between our
                # snapshot and its lock; a second look skips that queue, now seen full.
                row = conn.execute(statement, params).first()
            if row is not None and self._sqlite:
                conn.execute(self._sql["take_slot"], {"queue_id": row.queue_id, "job_id": row.job_id})
        return Claim(row_to_job(row), token, int(row.attempts or 1)) if row else None

    def claim_advanced(self, now: datetime, lease_seconds: float) -> Claim | None:
        """Dev mode: take a Running job that a manual ``advance`` handed to the workers."""
        token = uuid.uuid4().hex
        params = {"token": token, "expires": to_us(now) + int(lease_seconds * 1_000_000)}
        with self._single() as conn:
            row = conn.execute(self._sql["claim_advanced"], params).first()
        return Claim(row_to_job(row), token) if row else None

    def advance(self, job_id: str, now: datetime, *, finish: bool = False) -> bool:
        """Dev mode, manual test mode: Submitted -> Running (held); held Running -> to a worker.
        ``finish`` does both. False when the job was in neither state."""
        moved = False
        with write(self.engine) as conn:
            params = {"job_id": job_id, "now": to_us(now), "forever": 2**62}
            if conn.execute(self._sql["advance_hold"], params).rowcount:
                moved = True
                if not finish:
                    return True
            if conn.execute(self._sql["advance_go"], params).rowcount:
                notify(conn)
                return True
        return moved

    def renew(self, job_id: str, token: str, now: datetime, lease_seconds: float, progress: int | None = None) -> Lease:
        """Extend the lease; the answer says whether it is still held and whether a user asked
        the job to stop."""
        params = {
            "job_id": job_id,
            "token": token,
            "expires": to_us(now) + int(lease_seconds * 1_000_000),
            "progress": progress,
        }
        if self._sqlite:
            with self._single() as conn:
                row = conn.execute(self._sql["renew"], params).first()
        else:
            row = self._driver_row("renew", params)
        if row is None:
            return Lease.LOST
        return Lease.CANCEL_REQUESTED if row.cancel_us is not None else Lease.HELD

    def finish(
        self,
        job_id: str,
        token: str,
        now: datetime,
        state: JobState,
        code: str,
        message: str,
        result: Tree,
        callbacks: Sequence[outbox.PendingCallback] = (),
    ) -> Job | None:
        """Record the outcome if ``token`` still holds the lease; return the finished job or None.

        ``callbacks`` are the notifications the finished job owes, prepared by the caller; they go
        into the outbox in the same transaction as the outcome, so a finished job never misses its
        callback. Without them this is one statement on PostgreSQL."""
        now_us = to_us(now)
        params = {
            "job_id": job_id,
            "token": token,
            "state": str(state),
            "code": code,
            "message": message,
            "result": dumps(result),
            "end": now_us,
            "progress": 100 if state == JobState.SUCCESS else None,
        }
        if not self._sqlite and not callbacks:
            row = self._driver_row("finish", params)
            return row_to_job(row) if row is not None else None
        with self._single() if not callbacks else write(self.engine) as conn:
            row = conn.execute(self._sql["finish"], params).first()
            if row is None:
                return None
            if self._sqlite:
                conn.execute(self._sql["free_slots"], {"job_ids": [job_id]})
            outbox.enqueue(conn, job_id, callbacks, now_us)
            return row_to_job(row)

    def hand_back(self, job_id: str, token: str) -> bool:
        """Give a job this token holds back to its queue now (its worker is stopping); False when
        the token no longer holds it."""
        with write(self.engine) as conn:
            handed = bool(conn.execute(self._sql["hand_back"], {"job_id": job_id, "token": token}).rowcount)
            if handed:
                conn.execute(self._sql["free_slots"], {"job_ids": [job_id]})
                notify(conn)
        return handed

    def release_expired(self, now: datetime, max_attempts: int = 5) -> int:
        """Give jobs whose worker stopped renewing back to the queue (or fail them after too many
        tries, or end them Cancel when a user asked them to stop)."""
        now_us = to_us(now)
        lost = f"The job's worker stopped {max_attempts} times while running it; giving up."
        with write(self.engine) as conn:
            ended = [
                *conn.execute(self._sql["cancel_lost"], {"now": now_us, "message": CANCELED}).scalars(),
                *conn.execute(
                    self._sql["fail_lost"], {"now": now_us, "max_attempts": max_attempts, "message": lost}
                ).scalars(),
            ]
            again = list(conn.execute(self._sql["release"], {"now": now_us}).scalars())
            if ended or again:
                conn.execute(self._sql["free_slots"], {"job_ids": ended + again})
            if again:
                notify(conn)
        return len(ended) + len(again)


class _Autocommit:
    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *_: Any) -> None:
        self.conn.close()
