"""The bucket and region a request addresses, read from its Host header.

``<bucket>-<appid>.ci.<region>.myqcloud.com`` (the CI host) and ``….cos.…`` (what the SDK sends in
IP/Port mode) both name a bucket; an IP or ``localhost`` names none, unless the operator set a
default bucket.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}-[0-9]{4,}$|^[a-z0-9][a-z0-9-]{0,62}$")
_SERVICE_LABELS = ("ci", "cos", "pic", "ci-internal", "cos-internal")
_CI_LABELS = ("ci", "ci-internal")


@dataclass(frozen=True)
class HostInfo:
    bucket_id: str | None
    region: str | None
    ci: bool = False  # a CI host (``….ci.<region>…``): every request on it is a CI call


def parse_host(host: str, *, suffixes: tuple[str, ...] = ("myqcloud.com",), default_bucket: str = "") -> HostInfo:
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8080
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if not name or name == "localhost" or _is_ip(name):
        return HostInfo(default_bucket or None, None)
    labels = name.split(".")
    if len(labels) >= 3 and labels[1] in _SERVICE_LABELS:
        bucket, region = labels[0], labels[2]
        return HostInfo(bucket if _BUCKET.match(bucket) else None, region, ci=labels[1] in _CI_LABELS)
    for suffix in suffixes:
        if name.endswith("." + suffix) and len(labels) >= 2:
            return HostInfo(labels[0] if _BUCKET.match(labels[0]) else None, None)
    # An operator's own domain: the first label names the bucket when it looks like one.
    if len(labels) >= 2 and _BUCKET.match(labels[0]):
        return HostInfo(labels[0], None)
    return HostInfo(default_bucket or None, None)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
