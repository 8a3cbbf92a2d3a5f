"""Echo's params: an optional Prefix written before the input's bytes."""

from __future__ import annotations

from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree, text

MAX_PREFIX = 64


def validate_echo(params: Tree) -> None:
    prefix = text(params, "Prefix")
    if len(prefix) > MAX_PREFIX:
        raise invalid_argument(f"Echo.Prefix is {len(prefix)} characters; at most {MAX_PREFIX} are allowed.")
