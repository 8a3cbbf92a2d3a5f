"""Queues: one per family per bucket by default; Paused queues hold their Submitted jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wanxiang.model.tree import Tree

DEFAULT_MAX_SIZE = 10000
DEFAULT_MAX_CONCURRENT = 10
# What a user may set through the queue update body.
LIMIT_RANGE = {"MaxSize": (1, 1_000_000), "MaxConcurrent": (1, 10_000)}


class QueueState(StrEnum):
    ACTIVE = "Active"
    PAUSED = "Paused"


@dataclass
class Queue:
    queue_id: str
    bucket_id: str
    family: str
    name: str
    state: QueueState
    category: str
    create_time: datetime
    update_time: datetime
    notify_config: Tree = field(default_factory=dict)
    # What the queue reports. Only limits a user set are enforced (the caps below, None when
    # unset): a default nobody chose must not throttle a scaled-out pool.
    max_size: int = DEFAULT_MAX_SIZE
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    size_cap: int | None = None
    concurrent_cap: int | None = None
