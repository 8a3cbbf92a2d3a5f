"""Start-up checks that turn an operator's mistake into one line naming what to change."""

from __future__ import annotations

import errno
import importlib.metadata
import os
import platform
import socket
import tempfile
from pathlib import Path

from wanxiang.config import ConfigError, Settings


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def version_line() -> str:
    return (f"wanxiang {_version('wanxiang')} (Python {platform.python_version()}, pyvips {_version('pyvips')}, "
            f"PyAV {_version('av')})")


def usable_data_dir(path: Path) -> Path:
    """The data dir, created if missing, proven writable."""
    hint = "choose another with --data-dir (or WANXIANG_DATA_DIR)"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"data dir {path} exists and is not a directory; {hint}") from None
    except OSError as exc:
        raise ConfigError(f"data dir {path} cannot be created ({exc.strerror}); {hint}") from None
    if not path.is_dir():
        raise ConfigError(f"data dir {path} is not a directory; {hint}")
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"data dir {path} is not writable ({exc.strerror}); {hint}") from None
    return path


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts (so a taken port is the first and
    only thing the operator hears about)."""
    return _bind(host, port, reuse_port=False)


def listen_group(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port (SO_REUSEPORT), one per API process, all bound here
    before anything starts. The kernel spreads new connections over them by address hash.

    SO_REUSEPORT would let any other process of this user that sets it join the port silently, so a
    listener on the port that is not one of these is refused like a taken port."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_bind(host, port, reuse_port=True))
        if _others_listening(port, sockets):
            raise _in_use(host, port)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _in_use(host: str, port: int) -> ConfigError:
    return ConfigError(f"port {port} on {host} is already in use; choose another with --port (or WANXIANG_PORT)")


def _bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address this machine can listen on ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise _in_use(host, port) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"port {port} on {host} needs privileges this process lacks; choose one above 1023 with --port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"--host {host} is not an address of this machine") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def _others_listening(port: int, ours: list[socket.socket]) -> bool:
    """Whether /proc/net/tcp{,6} lists a listening socket on ``port`` that is not one of ``ours`` and
    whose address overlaps theirs (the same address, or either the wildcard)."""
    inodes = {str(os.fstat(sock.fileno()).st_ino) for sock in ours}
    listening: list[tuple[str, str]] = []  # (address hex, inode)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append((address, fields[9]))
    mine = {address for address, inode in listening if inode in inodes}
    return any(
        inode not in inodes and (address in mine or _wildcard(address) or any(_wildcard(m) for m in mine))
        for address, inode in listening
    )


def _wildcard(address_hex: str) -> bool:
    return set(address_hex) == {"0"}


def _public_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def storage_failure(settings: Settings, exc: BaseException) -> ConfigError:
    url = settings.resolved_storage_url()
    return ConfigError(f"storage {url} cannot be opened: {_first_line(exc)}; check --storage-url (or WANXIANG_STORAGE_URL)")


def database_failure(settings: Settings, exc: BaseException) -> ConfigError:
    database = _public_url(settings.resolved_database_url())
    return ConfigError(
        f"database {database} cannot be opened: {type(exc).__name__}: {_first_line(exc)}; "
        "check --database-url (or WANXIANG_DATABASE_URL)"
    )


def check_api_processes(settings: Settings) -> None:
    """More than one API process needs a database many processes can write at once."""
    if settings.api_processes > 1 and _backend(settings.resolved_database_url()) != "postgresql":
        raise ConfigError(
            f"--api-processes {settings.api_processes} needs PostgreSQL (--database-url postgresql://...): SQLite "
            "lets one process write at a time; run one API process (--api-processes 1 or WANXIANG_API_PROCESSES=1)"
        )


def _backend(url: str) -> str:
    from sqlalchemy.engine import make_url

    from wanxiang.store.db import normalise_url

    try:
        return str(make_url(normalise_url(url)).get_backend_name())
    except Exception:
        return "postgresql"  # not a URL at all: opening the database reports it, naming --database-url
