"""Small presentation helpers the templates use."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from wanxiang.model.times import format_time


def fmt_time(moment: datetime | None) -> str:
    return format_time(moment) if moment else "-"


def fmt_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def pretty(tree: Any) -> str:
    """A tree as indented JSON text (escaped by the template like any text)."""
    return json.dumps(tree, ensure_ascii=False, indent=2, default=str)
