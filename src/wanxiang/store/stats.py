"""What the console's overview counts, each bounded by the work in flight or by the last hour,
never by the length of the job table.

Submitted and Running counts walk the partial indexes the claim uses, up to a cap (a backlog
larger than that shows as "at least"); the hour's outcomes walk ``ix_jobs_bucket_created`` from
an hour ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, func, literal_column, select

from wanxiang.model.job import JobState
from wanxiang.store import schema
from wanxiang.store.codec import from_us, to_us
from wanxiang.store.tx import read

j = schema.jobs
MAX_BUCKETS = 200
IN_FLIGHT_CAP = 10_000


@dataclass(frozen=True)
class StateCount:
    bucket_id: str
    queue_id: str
    tag: str
    state: str
    count: int


@dataclass(frozen=True)
class SlotCount:
    """Jobs of one bucket that ended in ``state`` within slot ``slot`` (0 = the oldest)."""

    slot: int
    state: str
    count: int


@dataclass(frozen=True)
class ClaimInfo:
    attempts: int
    lease_expires: datetime | None


@dataclass
class StatsStore:
    engine: Engine

    def buckets(self) -> list[str]:
        b = schema.buckets
        with read(self.engine) as conn:
            rows = conn.execute(select(b.c.bucket_id).order_by(b.c.bucket_id).limit(MAX_BUCKETS)).all()
        return [r.bucket_id for r in rows]

    def in_flight(self, cap: int = IN_FLIGHT_CAP) -> tuple[list[StateCount], bool]:
        """Submitted and Running jobs by bucket, queue and tag, counting at most ``cap`` of each
        state (the page stays bounded under any backlog); True when a count reached the cap."""
        found: list[StateCount] = []
        capped = False
        with read(self.engine) as conn:
            for state in (JobState.SUBMITTED, JobState.RUNNING):
                # Literal, not bound: the partial index is used only when the condition visibly matches.
                literal: ColumnElement[str] = literal_column(f"'{state.value}'")
                some = select(j.c.bucket_id, j.c.queue_id, j.c.tag).where(j.c.state == literal).limit(cap).subquery()
                query = (
                    select(some.c.bucket_id, some.c.queue_id, some.c.tag, func.count())
                    .group_by(some.c.bucket_id, some.c.queue_id, some.c.tag)
                )
                counts = [StateCount(b, q, t, state.value, int(n)) for b, q, t, n in conn.execute(query).all()]
                capped = capped or sum(c.count for c in counts) >= cap
                found.extend(counts)
        return found, capped

    def created_since(self, bucket_id: str, since: datetime) -> list[StateCount]:
        """Jobs of the bucket created since ``since``, by queue, tag and state."""
        query = (
            select(j.c.queue_id, j.c.tag, j.c.state, func.count())
            .where(j.c.bucket_id == bucket_id, j.c.create_us >= to_us(since))
            .group_by(j.c.queue_id, j.c.tag, j.c.state)
        )
        with read(self.engine) as conn:
            return [StateCount(bucket_id, q, t, s, int(n)) for q, t, s, n in conn.execute(query).all()]

    def finished_by_slot(self, bucket_id: str, now: datetime, slots: int, slot: timedelta) -> list[SlotCount]:
        """Jobs that ended in each of the last ``slots`` slots (a job that ran longer than the
        window plus an hour before it is left out: the walk starts at creation times)."""
        slot_us = int(slot.total_seconds() * 1_000_000)
        start_us = to_us(now) - slots * slot_us
        index = ((j.c.end_us - start_us) // slot_us).label("slot")
        query = (
            select(index, j.c.state, func.count())
            .where(
                j.c.bucket_id == bucket_id,
                j.c.create_us >= start_us - 3600 * 1_000_000,
                j.c.end_us >= start_us,
                j.c.state.in_([JobState.SUCCESS.value, JobState.FAILED.value]),
            )
            .group_by(index, j.c.state)
        )
        with read(self.engine) as conn:
            rows = conn.execute(query).all()
        return [SlotCount(min(int(s), slots - 1), state, int(n)) for s, state, n in rows]

    def outbox_backlog(self) -> int:
        c = schema.callbacks
        with read(self.engine) as conn:
            return int(conn.execute(select(func.count()).where(c.c.state == "Pending")).scalar() or 0)

    def claim_info(self, job_id: str) -> ClaimInfo | None:
        with read(self.engine) as conn:
            row = conn.execute(select(j.c.attempts, j.c.lease_expires_us).where(j.c.job_id == job_id)).first()
        if row is None:
            return None
        return ClaimInfo(int(row.attempts), from_us(row.lease_expires_us))
