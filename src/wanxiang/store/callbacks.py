"""The callback outbox: notifications written in the job's finish transaction, delivered later,
retried with backoff, every attempt recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from wanxiang.store import schema
from wanxiang.store.codec import from_us, to_us
from wanxiang.store.tx import read, write

c = schema.callbacks
a = schema.callback_attempts


@dataclass(frozen=True)
class DueCallback:
    seq: int
    job_id: str
    event: str
    url: str
    content_type: str
    payload: str
    attempts: int
    lease_token: str


@dataclass(frozen=True)
class CallbackRecord:
    seq: int
    job_id: str
    event: str
    url: str
    state: str
    attempts: int
    last_error: str
    payload: str


@dataclass(frozen=True)
class CallbackAttempt:
    callback_seq: int
    at: datetime
    status: int | None
    error: str


@dataclass
class CallbackStore:
    engine: Engine

    def claim_due(self, now: datetime, limit: int = 10, lease_seconds: float = 60) -> list[DueCallback]:
        now_us = to_us(now)
        due = (c.c.state == "Pending", c.c.next_attempt_us <= now_us)
        # Looked at first without the write lock: the deliverer asks several times a second, and
        # on SQLite each write transaction would queue the submits' group commit behind it.
        with read(self.engine) as conn:
            if conn.execute(select(c.c.seq).where(*due).limit(1)).first() is None:
                return []
        token = uuid.uuid4().hex
        with write(self.engine) as conn:
            pick = select(c.c.seq).where(*due).order_by(c.c.next_attempt_us).limit(limit)
            if self.engine.dialect.name != "sqlite":
                pick = pick.with_for_update(skip_locked=True)
            seqs = [r.seq for r in conn.execute(pick).all()]
            if not seqs:
                return []
            # Push the next attempt out while we deliver, so another process does not send it too.
            conn.execute(
                update(c).where(c.c.seq.in_(seqs)).values(lease_owner=token, next_attempt_us=now_us + int(lease_seconds * 1e6))
            )
            rows = list(conn.execute(select(c).where(c.c.seq.in_(seqs))).all())
        # In the order they fell due: the read after the UPDATE comes back in PostgreSQL's
        # physical order, which the update may have shuffled.
        rank = {seq: i for i, seq in enumerate(seqs)}
        rows.sort(key=lambda r: rank[r.seq])
        return [
            DueCallback(r.seq, r.job_id, r.event, r.url, r.content_type, r.payload, r.attempts, token) for r in rows
        ]

    def record(self, due: DueCallback, now: datetime, status: int | None, error: str, retry_at: datetime | None, give_up: bool) -> None:
        delivered = not error
        state = "Delivered" if delivered else ("Failed" if give_up else "Pending")
        with write(self.engine) as conn:
            conn.execute(insert(a).values(callback_seq=due.seq, at_us=to_us(now), status=status, error=error[:2000]))
            values: dict[str, object] = {"state": state, "attempts": due.attempts + 1, "last_error": error[:2000]}
            if retry_at is not None and state == "Pending":
                values["next_attempt_us"] = to_us(retry_at)
            conn.execute(update(c).where(c.c.seq == due.seq, c.c.lease_owner == due.lease_token).values(**values))

    def for_job(self, job_id: str) -> list[CallbackRecord]:
        with read(self.engine) as conn:
            rows = conn.execute(select(c).where(c.c.job_id == job_id).order_by(c.c.seq)).all()
        return [CallbackRecord(r.seq, r.job_id, r.event, r.url, r.state, r.attempts, r.last_error, r.payload) for r in rows]

    def attempts_for(self, callback_seqs: list[int]) -> list[CallbackAttempt]:
        if not callback_seqs:
            return []
        with read(self.engine) as conn:
            rows = conn.execute(select(a).where(a.c.callback_seq.in_(callback_seqs)).order_by(a.c.seq)).all()
        return [CallbackAttempt(r.callback_seq, _at(r.at_us), r.status, r.error) for r in rows]


def _at(us: int) -> datetime:
    moment = from_us(us)
    assert moment is not None
    return moment
