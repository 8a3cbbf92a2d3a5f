"""Listing responses: a numbered page's head and items, a keyset page's items and NextToken."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from wanxiang.model.page import CursorPage, NumberedPage
from wanxiang.model.tree import Tree

T = TypeVar("T")


def numbered_page_tree(page: NumberedPage[T], list_node: str, missing_node: str, render: Callable[[T], Tree]) -> Tree:
    """TotalCount, PageNumber, PageSize, the items under ``list_node`` and the missing ids."""
    tree: Tree = {"TotalCount": str(page.total), "PageNumber": str(page.page_number), "PageSize": str(page.page_size)}
    if page.items:
        tree[list_node] = [render(item) for item in page.items]
    if page.missing:
        tree[missing_node] = list(page.missing)
    return tree


def cursor_page_tree(page: CursorPage[T], list_node: str, render: Callable[[T], Tree]) -> Tree:
    """The items under ``list_node`` (left out when none) and the NextToken."""
    tree: Tree = {list_node: [render(item) for item in page.items]} if page.items else {}
    tree["NextToken"] = page.next_token
    return tree
