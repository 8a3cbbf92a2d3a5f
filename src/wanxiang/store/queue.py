"""The queue a worker sees: claim, renew, finish, release. The SQL is in ``queue.sql``.

A claim takes the best Submitted job of an Active queue and stamps it with a fresh lease token,
in one statement: ``FOR UPDATE SKIP LOCKED`` in autocommit on PostgreSQL, one ``BEGIN IMMEDIATE``
transaction on SQLite. Only the holder of the current token can renew or finish the job.

``notify(conn)`` is the one place that tells sleeping PostgreSQL workers new work is claimable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, bindparam, text

from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import Tree
from wanxiang.store import outbox
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


def load_queries(*, skip_locked: bool) -> dict[str, str]:
    """The named statements of ``queue.sql``, with the claim also narrowed by Tag (``claim_tagged``)
    and, for dev mode, variants that skip held jobs (``claim_dev``, ``claim_tagged_dev``)."""
    named: dict[str, str] = {}
    for block in re.split(r"^-- name: ", QUERIES.read_text(), flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        sql = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--")).strip()
        named[name.strip()] = sql
    lock = "FOR UPDATE OF jobs SKIP LOCKED" if skip_locked else ""
    claim, hold = named.pop("claim"), named.pop("hold_filter")
    for suffix, hold_filter in (("", ""), ("_dev", hold)):
        named["claim" + suffix] = claim.format(tag_filter="", skip_locked=lock, hold_filter=hold_filter)
        named["claim_tagged" + suffix] = claim.format(
            tag_filter="AND jobs.tag IN :tags", skip_locked=lock, hold_filter=hold_filter
        )
    named["claim_advanced"] = named["claim_advanced"].format(skip_locked=lock)
    return named


@dataclass(frozen=True)
class Claim:
    job: Job
    lease_token: str


@dataclass
class JobQueue:
    engine: Engine
    _sqlite: bool = field(init=False)
    _sql: dict[str, TextClause] = field(init=False)

    def __post_init__(self) -> None:
        self._sqlite = is_sqlite(self.engine)
        # Built once: the worker path runs these thousands of times a second.
        self._sql = {name: text(sql) for name, sql in load_queries(skip_locked=not self._sqlite).items()}
        for name in ("claim_tagged", "claim_tagged_dev"):
            self._sql[name] = self._sql[name].bindparams(bindparam("tags", expanding=True))

    def _single(self) -> Any:
        """A connection for one self-contained statement: autocommit on PostgreSQL (no BEGIN and
        COMMIT round trips); on SQLite a write transaction, whose round trips are in-process."""
        if self._sqlite:
            return write(self.engine)
        return _Autocommit(self.engine)

    def claim(
        self, now: datetime, lease_seconds: float, tags: Sequence[str] | None = None, *, dev: bool = False
    ) -> Claim | None:
        """Take the best Submitted job of an Active queue: one statement, one round trip.
        ``dev``: skip jobs a manual test mode holds."""
        token = uuid.uuid4().hex
        now_us = to_us(now)
        params: dict[str, Any] = {"token": token, "expires": now_us + int(lease_seconds * 1_000_000), "now": now_us}
        suffix = "_dev" if dev else ""
        statement = self._sql["claim" + suffix]
        if tags:
            statement = self._sql["claim_tagged" + suffix]
            params["tags"] = list(tags)
        with self._single() as conn:
            row = conn.execute(statement, params).first()
        return Claim(row_to_job(row), token) if row else None

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

    def renew(self, job_id: str, token: str, now: datetime, lease_seconds: float, progress: int | None = None) -> bool:
        params = {
            "job_id": job_id,
            "token": token,
            "expires": to_us(now) + int(lease_seconds * 1_000_000),
            "progress": progress,
        }
        with self._single() as conn:
            return bool(conn.execute(self._sql["renew"], params).rowcount)

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
        callback. Without them this is one statement."""
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
        if not callbacks:
            with self._single() as conn:
                row = conn.execute(self._sql["finish"], params).first()
            return row_to_job(row) if row else None
        with write(self.engine) as conn:
            row = conn.execute(self._sql["finish"], params).first()
            if row is None:
                return None
            outbox.enqueue(conn, job_id, callbacks, now_us)
            return row_to_job(row)

    def release_expired(self, now: datetime, max_attempts: int = 5) -> int:
        """Give jobs whose worker stopped renewing back to the queue (or fail them after too many tries)."""
        now_us = to_us(now)
        lost = f"The job's worker stopped {max_attempts} times while running it; giving up."
        with write(self.engine) as conn:
            failed = conn.execute(
                self._sql["fail_lost"], {"now": now_us, "max_attempts": max_attempts, "message": lost}
            ).rowcount
            again = conn.execute(self._sql["release"], {"now": now_us}).rowcount
            if again:
                notify(conn)
        return int(failed or 0) + int(again or 0)


class _Autocommit:
    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *_: Any) -> None:
        self.conn.close()
