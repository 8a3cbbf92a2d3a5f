"""Templates: named, stored parameters for one job Tag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wanxiang.model.tree import Tree


@dataclass
class Template:
    template_id: str
    bucket_id: str
    tag: str
    name: str
    category: str
    params: Tree  # the tag's parameter tree, e.g. {"PicProcess": {...}} or {"Container": ..., "Video": ...}
    create_time: datetime
    update_time: datetime
