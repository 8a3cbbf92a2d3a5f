"""Queues: list by family, update Name / State / NotifyConfig."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.callbacks.policy import check_url_shape, is_private_literal
from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.job import QueueFamily
from wanxiang.model.page import NumberedPage
from wanxiang.model.queue import Queue, QueueState
from wanxiang.model.tree import Tree, child, text
from wanxiang.services.context import BucketContext
from wanxiang.services.listing import page_params
from wanxiang.store.store import Store

MAX_QUEUE_IDS = 10
NOTIFY_FIELDS = ("Url", "Event", "Type", "State", "ResultFormat", "MqMode", "MqName", "MqRegion")


@dataclass
class QueueService:
    store: Store
    allow_private_callbacks: bool = False
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
        updated = self.store.queues.update(queue_id, self.clock(), name=name, state=state, notify_config=notify)
        assert updated is not None
        return updated

    def _notify(self, node: Tree | None) -> Tree | None:
        if node is None:
            return None
        config = {k: text(node, k).strip() for k in NOTIFY_FIELDS if text(node, k).strip()}
        if config.get("State", "Off") not in ("On", "Off"):
            raise invalid_argument("NotifyConfig.State must be On or Off.")
        if config.get("ResultFormat", "XML").upper() not in ("XML", "JSON"):
            raise invalid_argument("NotifyConfig.ResultFormat must be XML or JSON.")
        if config.get("Type", "Url") != "Url" and config.get("State") == "On":
            raise invalid_argument(f"NotifyConfig.Type {config['Type']} is not available in wanxiang; use Url.")
        url = config.get("Url", "")
        if url:
            problem = check_url_shape(url)
            if problem:
                raise invalid_argument("NotifyConfig.Url: " + problem)
            if not self.allow_private_callbacks and is_private_literal(url):
                raise invalid_argument(
                    f"NotifyConfig.Url {url!r} points to a private or loopback address; the server refuses "
                    "those unless started with --allow-private-callbacks."
                )
        elif config.get("State") == "On":
            raise invalid_argument("NotifyConfig.Url is required when NotifyConfig.State is On.")
        return config
