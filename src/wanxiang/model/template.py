"""Templates: named, stored parameters for one job Tag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wanxiang.model.tree import Tree


@dataclass(frozen=True)
class Template:
    template_id: str
    bucket_id: str
    tag: str
    name: str
    category: str
    params: Tree  # the tag's parameter tree, e.g. {"PicProcess": {...}} or {"Container": ..., "Video": ...}
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class TemplateShape:
    """Where a Tag's template parameters live in a template request, and how responses name them.

    Either one child element (``nested``) or a set of top-level fields (``fields``).
    """

    nested: str | None = None
    fields: tuple[str, ...] = ()
    required_text: tuple[str, ...] = ()  # fields of the params that must be non-empty
    response_names: tuple[str, ...] = ()  # element names the params render under; default: the Tag
