"""How client commands print: a table for people, ``--json`` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from wanxiang.model.tree import Tree


def as_list(value: Any) -> list[Any]:
    if value in (None, "", {}):
        return []
    return value if isinstance(value, list) else [value]


def pick(tree: Any, dotted: str) -> str:
    for part in dotted.split("."):
        tree = tree.get(part, "") if isinstance(tree, dict) else ""
    return "" if isinstance(tree, dict | list) else str(tree)


def emit(data: Any, *, as_json: bool, rows: Sequence[Tree] | None = None, columns: Sequence[str] = ()) -> None:
    """Print ``data`` as JSON, or ``rows`` as a table of ``columns`` (dotted paths into each row)."""
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    if rows is None:
        for key, value in (data.items() if isinstance(data, dict) else []):
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
            print(f"{key}: {shown}")
        return
    table = [[c.rsplit(".", 1)[-1] for c in columns]] + [[pick(row, c) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
