"""Submit-time checks that need the server's policy, not just the request."""

from __future__ import annotations

from wanxiang.callbacks.policy import check_url_shape, is_private_literal
from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree
from wanxiang.wire.submit import CallBack, parse_callback


def callback_settings(request: Tree, *, allow_private: bool) -> Tree:
    """The callback settings of a request tree, validated; {} when it has none."""
    return checked_callback(parse_callback(request), allow_private=allow_private)


def checked_callback(callback: CallBack, *, allow_private: bool) -> Tree:
    """The job's own callback settings once the URL passes the policy; {} when it has none."""
    url = callback.url
    if url and url != "no":
        problem = check_url_shape(url)
        if problem:
            raise invalid_argument(problem)
        if not allow_private and is_private_literal(url):
            raise invalid_argument(
                f"CallBack {url!r} points to a private or loopback address; the server refuses those "
                "unless started with --allow-private-callbacks."
            )
    return callback.settings()
