"""Start-up checks that turn an operator's mistake into one line naming what to change."""

from __future__ import annotations

import errno
import importlib.metadata
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
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address this machine can listen on ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use; choose another with --port (or WANXIANG_PORT)"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"port {port} on {host} needs privileges this process lacks; choose one above 1023 with --port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"--host {host} is not an address of this machine") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


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
