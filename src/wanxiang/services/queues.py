"""Queues: list by family, update Name / State / NotifyConfig."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.job import QueueFamily
from wanxiang.model.page import NumberedPage
from wanxiang.model.queue import LIMIT_RANGE, Queue, QueueState
from wanxiang.model.tree import Tree, child, text
from wanxiang.services import validation
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import page_params
from wanxiang.store.store import Store

MAX_QUEUE_IDS = 10



@dataclass
class QueueService:
    store: Store
    allow_private_callbacks: bool = False
    mq_callbacks: bool = False  # a broker is configured: NotifyConfig Type TDMQ is accepted
    clock: Callable[[], datetime] = times.now

    def list(self, ctx: BucketContext, family: QueueFamily, params: Mapping[str, str]) -> NumberedPage[Queue]:
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        p = {k.lower(): v for k, v in params.items() if v != ""}
        ids = [i.strip() for i in p.get("queueids", p.get("queueid", "")).split(",") if i.strip()]
        if len(ids) > MAX_QUEUE_IDS:
            raise invalid_argument(f"queueIds may name at most {MAX_QUEUE_IDS} queues.")
        state = p.get("state", "All")
        if state not in ("All", "Active", "Paused"):
            raise invalid_argument(f"state must be All, Active or Paused, not {state!r}.")
        page_number, page_size = page_params(p)
        queues, total = self.store.queues.list(
            ctx.bucket_id,
            family.value,
            queue_ids=ids,
            state=None if state == "All" else state,
            page_number=page_number,
            page_size=page_size,
        )
        missing = [i for i in ids if i not in {q.queue_id for q in queues}]
        return NumberedPage(queues, total, page_number, page_size, missing)

    def update(self, ctx: BucketContext, family: QueueFamily, queue_id: str, request: Tree) -> Queue:
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        queue = self.store.queues.get(queue_id)
        if queue is None or queue.bucket_id != ctx.bucket_id or queue.family != family.value:
            raise CIError(404, "NoSuchQueue", f"The {family.value} {queue_id!r} does not exist in bucket {ctx.bucket_id}.")
        name = text(request, "Name").strip() or None
        if name is not None and len(name.encode()) > 128:
            raise invalid_argument("Name may be at most 128 bytes.")
        state = text(request, "State").strip() or None
        if state is not None and state not in (QueueState.ACTIVE, QueueState.PAUSED):
            raise invalid_argument(f"State must be Active or Paused, not {state!r}.")
        notify = self._notify(child(request, "NotifyConfig"))
        limits = {field: _limit(request, field) for field in LIMIT_RANGE}
        updated = self.store.queues.update(
            queue_id,
            self.clock(),
            name=name,
            state=state,
            notify_config=notify,
            max_size=limits["MaxSize"],
            max_concurrent=limits["MaxConcurrent"],
        )
        assert updated is not None
        return updated

    def _notify(self, node: Tree | None) -> Tree | None:
        return validation.checked_notify_config(
            node, "NotifyConfig", allow_private=self.allow_private_callbacks, mq_enabled=self.mq_callbacks
        )


def _limit(request: Tree, field: str) -> int | None:
    raw = text(request, field).strip()
    if not raw:
        return None
    low, high = LIMIT_RANGE[field]
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise invalid_argument(f"{field} must be a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)
