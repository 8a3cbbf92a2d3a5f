"""Queues: one per family per bucket by default; Paused queues hold their Submitted jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from wanxiang.model.tree import Tree


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
    max_size: int = 10000
    max_concurrent: int = 10
