"""Settings of one wanxiang process, from the command line and the environment."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

# The published development account (like Azurite's): accepted by ``serve --dev`` so that test
# configs and CI pipelines can hard-code it. Never use it on a server others can reach.
DEV_SECRET_ID = "AKIDwanxiangDEV000000000000000000"
DEV_SECRET_KEY = "wanxiang-dev-secret-key-do-not-use-in-production"


@dataclass
class Settings:
    data_dir: Path = Path("./data")
    database_url: str = ""
    storage_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0  # 0 = one per CPU
    api_processes: int = 1  # processes serving HTTP on the one listening socket (PostgreSQL only past 1)
    region: str = "ap-guangzhou"
    domain_suffixes: tuple[str, ...] = ("myqcloud.com", "tencentcos.cn")
    default_bucket: str = ""  # bucket used when the Host carries none (an IP or localhost)
    allow_private_callbacks: bool = False
    callback_backoff_seconds: float = 5.0  # first retry delay of a failed callback
    mq_url: str = ""  # amqp://… : the RabbitMQ broker of TDMQ callbacks; none: TDMQ is refused
    lease_seconds: float = 30.0
    shutdown_grace: float = 30.0  # seconds running jobs (and requests) get to finish at a stop
    metrics_token: str = ""  # required by /-/metrics when set (and when not listening on loopback)
    job_timeouts: str = ""  # "<Tag or QueueId>=<seconds>,..." over the per-Tag defaults
    clock_skew_seconds: int = 900  # allowed before a signature's start only, never after its end
    max_signature_seconds: int = 7 * 24 * 3600
    max_body_bytes: int = 1 << 20
    body_timeout_seconds: float = 60.0  # 408 when no byte of a request body arrives for this long
    max_object_bytes: int = 5 << 30
    multipart_expiry_seconds: float = 7 * 24 * 3600.0  # unfinished multipart uploads older than this go
    credentials: dict[str, str] = field(default_factory=dict)
    # SecretIds flagged ``readonly`` in the keys file: their console sessions can look, not act.
    read_only_ids: frozenset[str] = frozenset()
    # Image processing outside jobs (downloads, Pic-Operations): child processes and the address
    # space each may use.
    pic_processes: int = 2
    pic_backlog: int = 8
    pic_memory_bytes: int = 1 << 30
    # Results of processing on download kept in the API process (0: none), by object ETag + rule.
    pic_cache_bytes: int = 64 << 20
    # Dev mode: the published credentials, the /-/ reset and test-mode endpoints, test modes in the worker.
    dev: bool = False

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'wanxiang.db').resolve()}"

    def resolved_storage_url(self) -> str:
        return self.storage_url or f"local:{(self.data_dir / 'objects').resolve()}"


class ConfigError(ValueError):
    """A setting wanxiang cannot start with; the message names what to change."""


def read_keys_file(keys_file: Path) -> dict[str, str]:
    """``SecretId SecretKey [readonly]`` lines; blank lines and ``#`` comments are skipped."""
    pairs: dict[str, str] = {}
    try:
        lines = keys_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"keys file {keys_file} cannot be read: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if not (len(parts) == 2 or (len(parts) == 3 and parts[2].lower() == "readonly")):
            raise ConfigError(
                f"keys file {keys_file} line {number}: expected 'SecretId SecretKey' (two words separated "
                f"by spaces, optionally a third: readonly), found {len(parts)} word(s)"
            )
        pairs[parts[0]] = parts[1]
    return pairs


def load_credentials(data_dir: Path, *, generate: bool = True) -> tuple[dict[str, str], str | None]:
    """SecretId -> SecretKey. From WANXIANG_SECRET_ID/KEY, plus a keys file (``id key`` lines) named
    by WANXIANG_KEYS_FILE or ``<data-dir>/credentials``. With none, generate a pair into the data
    dir (mode 0600). The second value is a line to print: where the keys are kept, and the new
    secret only when it was just generated."""
    pairs: dict[str, str] = {}
    sid, skey = os.environ.get("WANXIANG_SECRET_ID"), os.environ.get("WANXIANG_SECRET_KEY")
    if bool(sid) != bool(skey):
        raise ConfigError("WANXIANG_SECRET_ID and WANXIANG_SECRET_KEY must be set together")
    sources = []
    if sid and skey:
        pairs[sid] = skey
        sources.append("WANXIANG_SECRET_ID/WANXIANG_SECRET_KEY")
    keys_file = Path(os.environ.get("WANXIANG_KEYS_FILE") or data_dir / "credentials")
    if keys_file.exists():
        from_file = read_keys_file(keys_file)
        pairs.update(from_file)
        if from_file:
            sources.append(str(keys_file))
    elif os.environ.get("WANXIANG_KEYS_FILE"):
        raise ConfigError(f"WANXIANG_KEYS_FILE names {keys_file}, which does not exist")
    if pairs or not generate:
        return pairs, f"Credentials: {len(pairs)} key pair(s) from {' and '.join(sources)}" if pairs else None
    if keys_file.exists():
        raise ConfigError(f"keys file {keys_file} holds no 'SecretId SecretKey' line; add one or delete the file")
    data_dir.mkdir(parents=True, exist_ok=True)
    new_id = "AKID" + secrets.token_hex(16)
    new_key = secrets.token_hex(20)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        fh.write("# SecretId SecretKey, one pair a line\n")
        fh.write(f"{new_id} {new_key}\n")
    return {new_id: new_key}, (
        f"Generated credentials (kept in {keys_file}):\n  SecretId:  {new_id}\n  SecretKey: {new_key}"
    )


def dev_credentials(data_dir: Path) -> dict[str, str]:
    """Dev mode: the published pair, plus any the environment or keys file names (none generated)."""
    pairs, _ = load_credentials(data_dir, generate=False)
    return {DEV_SECRET_ID: DEV_SECRET_KEY, **pairs}


def load_read_only_ids(data_dir: Path) -> frozenset[str]:
    """SecretIds whose keys-file line carries a third word ``readonly`` (``id key readonly``)."""
    keys_file = Path(os.environ.get("WANXIANG_KEYS_FILE") or data_dir / "credentials")
    if not keys_file.exists():
        return frozenset()
    found = set()
    for line in keys_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].lower() == "readonly" and not line.lstrip().startswith("#"):
            found.add(parts[0])
    return frozenset(found)
