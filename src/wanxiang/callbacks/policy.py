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


def vetted_address(url: str) -> str:
    """The one address to connect to for ``url``: resolved once, every answer checked, so a name
    that answers public first and private next (DNS rebinding) cannot slip through. Raises
    ValueError naming the reason when the URL may not be called."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_private_literal(url):
        raise ValueError(f"{host} is a private or loopback address")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise ValueError(f"{host} does not resolve: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    private = [a for a in addresses if _private(a)]
    if private or not addresses:
        raise ValueError(f"{host} resolves to a private address ({', '.join(private) or 'none'})")
    return addresses[0]


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url to connect to, headers, httpx extensions) that reach ``address`` while the server
    still sees the original Host, and TLS still checks the original name."""
    parts = urlsplit(url)
    ip = f"[{address}]" if ":" in address else address
    netloc = ip + (f":{parts.port}" if parts.port else "")
    target = parts._replace(netloc=netloc).geturl()
    extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
    return target, {"Host": parts.netloc.rsplit("@", 1)[-1]}, extensions


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
