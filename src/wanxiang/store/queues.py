"""Queues in the store. Each bucket gets one default queue per family on first use; the default
ids are derived from (bucket, family), so two requests racing to create them agree."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wanxiang.model.job import FAMILY_CATEGORY, QueueFamily
from wanxiang.model.queue import DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_SIZE, Queue, QueueState
from wanxiang.model.tree import Tree
from wanxiang.store import schema
from wanxiang.store.codec import dumps, row_to_queue, to_us
from wanxiang.store.queue import notify, set_slots
from wanxiang.store.tx import read, write

q = schema.queues
b = schema.buckets


def default_queue_id(bucket_id: str, family: QueueFamily) -> str:
    return "p" + hashlib.md5(f"{bucket_id}/{family.value}".encode()).hexdigest()


@dataclass
class QueueStore:
    engine: Engine
    wake_hooks: list[Callable[[], None]] = field(default_factory=list)
    # Buckets known to have their default queues; a submit then costs no extra read.
    _known: set[str] = field(default_factory=set)

    def knows(self, bucket_id: str) -> bool:
        """True when ``ensure_bucket`` would read nothing (this process saw the bucket registered)."""
        return bucket_id in self._known

    def forget_buckets(self) -> None:
        """After a dev-mode reset: the buckets this process registered are gone."""
        self._known.clear()

    def ensure_bucket(self, bucket_id: str, region: str, now: datetime) -> None:
        """Register the bucket and create its default queues, once."""
        if bucket_id in self._known:
            return
        with read(self.engine) as conn:
            if conn.execute(select(b.c.bucket_id).where(b.c.bucket_id == bucket_id)).first():
                self._known.add(bucket_id)
                return
        now_us = to_us(now)
        try:
            with write(self.engine) as conn:
                if conn.execute(select(b.c.bucket_id).where(b.c.bucket_id == bucket_id)).first():
                    return
                conn.execute(insert(b).values(bucket_id=bucket_id, region=region, create_us=now_us))
                conn.execute(insert(q), [_default_queue(bucket_id, family, now_us) for family in QueueFamily])
        except IntegrityError:
            # Another process registered the bucket between our check and insert: same outcome.
            pass
        self._known.add(bucket_id)

    # --- the CI services a bucket has open (POST/DELETE/GET /picbucket, /mediabucket, …) ---------
    # A service is open while the bucket has a queue of its family: closing deletes those queues
    # (as CI does), opening again brings the default one back.

    def open_service(self, bucket_id: str, region: str, family: QueueFamily, now: datetime) -> int:
        """Open the service; returns the bucket's registration time (µs)."""
        self.ensure_bucket(bucket_id, region, now)
        with write(self.engine) as conn:
            has = conn.execute(select(q.c.queue_id).where(q.c.bucket_id == bucket_id, q.c.family == family.value)).first()
            if has is None:
                conn.execute(insert(q).values(**_default_queue(bucket_id, family, to_us(now))))
            return int(conn.execute(select(b.c.create_us).where(b.c.bucket_id == bucket_id)).scalar_one())

    def close_service(self, bucket_id: str, family: QueueFamily) -> bool:
        with write(self.engine) as conn:
            done = conn.execute(delete(q).where(q.c.bucket_id == bucket_id, q.c.family == family.value))
        return bool(done.rowcount)

    def service_buckets(
        self,
        family: QueueFamily,
        *,
        regions: Sequence[str] = (),
        bucket_ids: Sequence[str] = (),
        name_prefix: str = "",
        page_number: int = 1,
        page_size: int = 10,
    ) -> tuple[list[tuple[str, str, int]], int]:
        """(bucket id, region, registration µs) of buckets with the service open, and their count."""
        opened = select(q.c.bucket_id).where(q.c.family == family.value)
        conds: list[ColumnElement[bool]] = [b.c.bucket_id.in_(opened)]
        if regions:
            conds.append(b.c.region.in_(list(regions)))
        if bucket_ids:
            conds.append(b.c.bucket_id.in_(list(bucket_ids)))
        if name_prefix:
            conds.append(b.c.bucket_id.startswith(name_prefix, autoescape=True))
        with read(self.engine) as conn:
            total = conn.execute(select(func.count()).select_from(b).where(*conds)).scalar_one()
            rows = conn.execute(
                select(b.c.bucket_id, b.c.region, b.c.create_us).where(*conds).order_by(b.c.create_us, b.c.bucket_id)
                .offset((page_number - 1) * page_size).limit(page_size)
            ).all()
        return [(r.bucket_id, r.region, int(r.create_us)) for r in rows], int(total)

    def get(self, queue_id: str) -> Queue | None:
        with read(self.engine) as conn:
            row = conn.execute(select(q).where(q.c.queue_id == queue_id)).first()
        return row_to_queue(row) if row else None

    def list(
        self,
        bucket_id: str,
        family: str,
        *,
        queue_ids: Sequence[str] = (),
        state: str | None = None,
        page_number: int = 1,
        page_size: int = 10,
    ) -> tuple[list[Queue], int]:
        conds = [q.c.bucket_id == bucket_id, q.c.family == family]
        if queue_ids:
            conds.append(q.c.queue_id.in_(list(queue_ids)))
        if state:
            conds.append(q.c.state == state)
        with read(self.engine) as conn:
            total = conn.execute(select(func.count()).select_from(q).where(*conds)).scalar_one()
            rows = conn.execute(
                select(q).where(*conds).order_by(q.c.create_us, q.c.queue_id)
                .offset((page_number - 1) * page_size).limit(page_size)
            ).all()
        return [row_to_queue(r) for r in rows], int(total)

    def update(
        self,
        queue_id: str,
        now: datetime,
        *,
        name: str | None,
        state: str | None,
        notify_config: Tree | None,
        max_size: int | None = None,
        max_concurrent: int | None = None,
    ) -> Queue | None:
        """Change what is given. A MaxSize or MaxConcurrent given here is a user's choice, and from
        then on enforced (the defaults a queue reports are not)."""
        values: dict[str, object] = {"update_us": to_us(now)}
        if name is not None:
            values["name"] = name
        if state is not None:
            values["state"] = state
        if notify_config is not None:
            values["notify_config"] = dumps(notify_config)
        if max_size is not None:
            values.update(max_size=max_size, size_cap=max_size)
        if max_concurrent is not None:
            values.update(max_concurrent=max_concurrent, concurrent_cap=max_concurrent)
        wake = state == QueueState.ACTIVE or max_concurrent is not None
        with write(self.engine) as conn:
            conn.execute(update(q).where(q.c.queue_id == queue_id).values(**values))
            if max_concurrent is not None:
                set_slots(conn, queue_id, max_concurrent)
            if wake:
                notify(conn)
        if wake:
            for hook in self.wake_hooks:
                hook()
        return self.get(queue_id)


def _default_queue(bucket_id: str, family: QueueFamily, now_us: int) -> dict[str, object]:
    return {
        "queue_id": default_queue_id(bucket_id, family),
        "bucket_id": bucket_id,
        "family": family.value,
        "name": f"{family.value}-default",
        "state": QueueState.ACTIVE.value,
        "category": FAMILY_CATEGORY[family],
        "notify_config": "{}",
        "max_size": DEFAULT_MAX_SIZE,
        "max_concurrent": DEFAULT_MAX_CONCURRENT,
        "create_us": now_us,
        "update_us": now_us,
    }
