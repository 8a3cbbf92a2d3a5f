"""Submit-time checks that need the server's policy, not just the request."""

from __future__ import annotations

from wanxiang.callbacks.policy import check_url_shape, is_private_literal
from wanxiang.model.errors import invalid_argument
from wanxiang.model.notify import mq_unavailable, parse_mq_config
from wanxiang.model.tree import Tree, text
from wanxiang.wire.submit import CallBack, parse_callback

NOTIFY_FIELDS = ("Url", "Event", "Type", "State", "ResultFormat", "MqMode", "MqName", "MqRegion")


def callback_settings(request: Tree, *, allow_private: bool, mq_enabled: bool) -> Tree:
    """The callback settings of a request tree, validated; {} when it has none."""
    return checked_callback(parse_callback(request), allow_private=allow_private, mq_enabled=mq_enabled)


def checked_callback(callback: CallBack, *, allow_private: bool, mq_enabled: bool) -> Tree:
    """The job's own callback settings once they pass the server's policy (private URLs refused
    unless allowed; TDMQ only with a broker); {} when it has none."""
    if callback.mq is not None and not mq_enabled:
        raise mq_unavailable("CallBackType")
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


def checked_notify_config(node: Tree | None, field: str, *, allow_private: bool, mq_enabled: bool) -> Tree | None:
    """A queue's or workflow's NotifyConfig, checked: Url (http, private addresses only when
    allowed) or TDMQ (a broker configured, MqMode/MqName/MqRegion in shape); None when absent."""
    if node is None:
        return None
    config = {k: text(node, k).strip() for k in NOTIFY_FIELDS if text(node, k).strip()}
    if config.get("State", "Off") not in ("On", "Off"):
        raise invalid_argument(f"{field}.State must be On or Off.")
    if config.get("ResultFormat", "XML").upper() not in ("XML", "JSON"):
        raise invalid_argument(f"{field}.ResultFormat must be XML or JSON.")
    kind = config.get("Type", "Url")
    on = config.get("State") == "On"
    if kind not in ("Url", "TDMQ"):
        if on:
            raise invalid_argument(f"{field}.Type {kind} is not available in wanxiang; use Url or TDMQ.")
        return config
    if kind == "TDMQ":
        if on:
            if not mq_enabled:
                raise mq_unavailable(f"{field}.Type")
            target = parse_mq_config(config, field)
            config.update(MqMode=target.mode, MqName=target.name, MqRegion=target.region)
        return config
    url = config.get("Url", "")
    if url:
        problem = check_url_shape(url)
        if problem:
            raise invalid_argument(f"{field}.Url: " + problem)
        if not allow_private and is_private_literal(url):
            raise invalid_argument(
                f"{field}.Url {url!r} points to a private or loopback address; the server refuses "
                "those unless started with --allow-private-callbacks."
            )
    elif on:
        raise invalid_argument(f"{field}.Url is required when {field}.State is On.")
    return config
