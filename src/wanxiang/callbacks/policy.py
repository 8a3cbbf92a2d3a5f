"""Where callbacks may go. The real service refuses private-network URLs; so do we, unless the
operator allows them (tests and self-hosted networks do)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def check_url_shape(url: str) -> str | None:
    """A message saying what is wrong with a callback URL, or None when it is usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"CallBack must be an http(s) URL with a host, not {url!r}."
    return None


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def is_private_literal(url: str) -> bool:
    """True when the URL names a private/loopback address or localhost without a DNS lookup."""
    host = urlsplit(url).hostname or ""
    if host in ("localhost",) or host.endswith(".localhost") or host.endswith(".local"):
        return True
    try:
        return _private(host)
    except ValueError:
        return False


def resolves_private(url: str) -> bool:
    """True when any address the host resolves to is private (checked again at delivery time,
    so a public name that points inward is refused too)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_private_literal(url):
        return True
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return False
    return any(_private(str(info[4][0])) for info in infos)
