"""The shape every CI element tree takes inside wanxiang.

An element tree is a ``dict`` whose values are ``str`` (text), a nested tree, or a ``list`` of those
(a repeated element). It is what the XML parser yields, what the renderer consumes, what the
store keeps as JSON, and what engines return as result nodes.
"""

from __future__ import annotations

from typing import Any, TypeAlias

Tree: TypeAlias = dict[str, Any]


def text(tree: Tree | None, *path: str, default: str = "") -> str:
    """The text at ``path`` (first element of a repeat), or ``default`` when absent or not text."""
    node: Any = tree
    for name in path:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict):
            return default
        node = node.get(name)
    if isinstance(node, list):
        node = node[0] if node else None
    if node is None or isinstance(node, dict):
        return default
    return str(node)


def child(tree: Tree | None, *path: str) -> Tree | None:
    """The sub-tree at ``path`` (first of a repeat), or None."""
    node: Any = tree
    for name in path:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    if isinstance(node, list):
        node = node[0] if node else None
    return node if isinstance(node, dict) else None


def as_list(value: Any) -> list[Any]:
    """A repeated element as a list, whether it came as one element or many."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "on")
