"""The command-line options of ``wanxiang``, each with its environment variable and default.

argparse only collects strings here; ``resolve`` converts them, taking the command line first, then
the environment, then the default, and names the flag or the variable a bad value came from.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass

from wanxiang.config import ConfigError
from wanxiang.ops.logs import FORMATS, LEVELS

Convert = Callable[[str], object]


def _int_at_least(low: int, high: int | None = None) -> Convert:
    def convert(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise ValueError(f"{value} is out of range ({bound})")
        return value

    return convert


def _seconds(low: float, allow_zero: bool) -> Convert:
    def convert(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not a number of seconds") from None
        if value != value or value < low or (value == 0 and not allow_zero) or value > 86400:
            raise ValueError(f"{value:g} is out of range ({'0' if allow_zero else 'more than 0'} to 86400 s)")
        return value

    return convert


def _hours(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a number of hours") from None
    if not 0 < value <= 24 * 3650:
        raise ValueError(f"{value:g} is out of range (more than 0, at most ten years)")
    return value


def _choice(choices: tuple[str, ...], fold: Callable[[str], str] = str.lower) -> Convert:
    def convert(raw: str) -> str:
        value = fold(raw.strip())
        if value not in choices:
            raise ValueError(f"{raw!r} is not one of {', '.join(choices)}")
        return value

    return convert


def _job_timeouts(raw: str) -> str:
    from wanxiang.worker.deadlines import JobDeadlines

    JobDeadlines.parse(raw)  # a ValueError names the bad entry
    return raw


def _amqp_url(url: str) -> str:
    from urllib.parse import urlsplit

    if url and (urlsplit(url).scheme not in ("amqp", "amqps") or not urlsplit(url).hostname):
        raise ValueError(f"must be an amqp:// or amqps:// URL with a host, not {url!r}")
    return url


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not 1/0, true/false, yes/no or on/off")


@dataclass(frozen=True)
class Option:
    flag: str
    env: str | None
    default: object
    help: str
    convert: Convert = str
    shown: str = ""  # the default as --help prints it, when not the value itself
    switch: bool = False  # takes no value on the command line

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


COMMON: tuple[Option, ...] = (
    Option("--data-dir", "WANXIANG_DATA_DIR", "./data", "where the SQLite database, objects and keys file live"),
    Option("--database-url", "WANXIANG_DATABASE_URL", "", "SQLAlchemy URL (postgresql://user@host/db for many machines)",
           shown="SQLite in the data dir"),
    Option("--database-schema", "WANXIANG_DATABASE_SCHEMA", "", "PostgreSQL schema to use (created if missing)",
           shown="none"),
    Option("--storage-url", "WANXIANG_STORAGE_URL", "", "object storage: local:/path, memory:, or s3://bucket/prefix?endpoint=...",
           shown="local:<data-dir>/objects"),
    Option("--workers", "WANXIANG_WORKERS", None, "worker processes (0: none, the API only)", _int_at_least(0, 512),
           shown="CPU count"),
    Option("--lease-seconds", "WANXIANG_LEASE_SECONDS", 30.0,
           "a job whose worker stops renewing for this long is run again", _seconds(1, False)),
    Option("--shutdown-grace", "WANXIANG_SHUTDOWN_GRACE", 30.0,
           "at SIGTERM/SIGINT, seconds running jobs may take to finish before they are handed back",
           _seconds(0, True)),
    Option("--allow-private-callbacks", "WANXIANG_ALLOW_PRIVATE_CALLBACKS", False,
           "let callbacks reach private and loopback addresses", _flag, shown="off", switch=True),
    Option("--callback-backoff", "WANXIANG_CALLBACK_BACKOFF", 5.0,
           "first retry delay of a failed callback (doubled per attempt, 6 attempts)", _seconds(0, False)),
    Option("--job-timeout", "WANXIANG_JOB_TIMEOUTS", "",
           "'<Tag or QueueId>=<seconds>,...': job deadlines over the per-Tag defaults (JobTimeout past them)",
           _job_timeouts, shown="per-Tag defaults"),
    Option("--mq-url", "WANXIANG_MQ_URL", "",
           "RabbitMQ broker (amqp://user:pass@host:5672/vhost) for CallBackType/NotifyConfig Type TDMQ", _amqp_url,
           shown="none"),
    Option("--dev", "WANXIANG_DEV", False,
           "local stand-in: published credentials, any bucket, reset and test-mode endpoints (workers: apply "
           "the test modes)", _flag, shown="off", switch=True),
    Option("--log-level", "WANXIANG_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR", _choice(LEVELS, str.upper)),
    Option("--log-format", "WANXIANG_LOG_FORMAT", "text", "text, or json: one JSON object a line", _choice(FORMATS)),
)
SERVE: tuple[Option, ...] = (
    Option("--host", "WANXIANG_HOST", "127.0.0.1", "address to listen on"),
    Option("--port", "WANXIANG_PORT", 8080, "port to listen on", _int_at_least(1, 65535)),
    Option("--region", "WANXIANG_REGION", "ap-guangzhou", "region used when the Host names none"),
    Option("--default-bucket", "WANXIANG_DEFAULT_BUCKET", "", "bucket used when the Host is a bare IP",
           shown="none"),
    Option("--metrics-token", "WANXIANG_METRICS_TOKEN", "",
           "bearer token /-/metrics requires (needed when not listening on loopback)", shown="none"),
    Option("--multipart-expiry-hours", "WANXIANG_MULTIPART_EXPIRY_HOURS", 168.0,
           "unfinished multipart uploads older than this are removed (7 days)", _hours),
    Option("--api-processes", "WANXIANG_API_PROCESSES", 1,
           "processes serving the API on the one port (more than 1 needs PostgreSQL); workers, callbacks and "
           "--pic-processes stay one budget for the server", _int_at_least(1, 64)),
    Option("--pic-processes", "WANXIANG_PIC_PROCESSES", 2,
           "child processes for image processing on download and upload (503 SlowDown when all are busy); "
           "0 runs it inside the API process, unisolated", _int_at_least(0, 64)),
    Option("--strict", None, False, "self-hosting: none of --dev (the default without --dev)", _flag,
           shown="on unless --dev", switch=True),
    Option("--seed", "WANXIANG_SEED", "", "load DIR/<bucket>/<key> files as objects at start", shown="none"),
    Option("--pic-cache-mb", "WANXIANG_PIC_CACHE_MB", 64,
           "memory for results of processing on download, reused while the object and rule are the same (0: off)",
           _int_at_least(0, 1 << 20)),
    Option("--pic-backlog", "WANXIANG_PIC_BACKLOG", 8,
           "image processing requests that may wait for a free child before 503 SlowDown", _int_at_least(0, 10000)),
    Option("--body-timeout", "WANXIANG_BODY_TIMEOUT", 60.0,
           "408 RequestTimeout when no byte of a request body arrives for this many seconds", _seconds(0, False)),
    Option("--max-signature-window", "WANXIANG_MAX_SIGNATURE_WINDOW", 7 * 24 * 3600,
           "longest q-sign-time window accepted, in seconds (7 days)", _int_at_least(1)),
)
WORKER: tuple[Option, ...] = (
    Option("--metrics-port", "WANXIANG_METRICS_PORT", 0,
           "serve /-/healthy, /-/ready and /-/metrics of this machine's workers on this port (0: off)",
           _int_at_least(0, 65535), shown="0 (off)"),
    Option("--metrics-host", "WANXIANG_METRICS_HOST", "127.0.0.1", "address for --metrics-port"),
    Option("--metrics-token", "WANXIANG_METRICS_TOKEN", "",
           "bearer token /-/metrics requires (needed when not listening on loopback)", shown="none"),
)
DOCTOR: tuple[Option, ...] = (
    Option("--strict", None, False, "exit 1 when something a configured engine needs is missing", _flag,
           shown="off", switch=True),
)


class Values(dict[str, object]):
    """Resolved option values, by dest, read back with their types."""

    def text(self, key: str) -> str:
        value = self[key]
        return "" if value is None else str(value)

    def integer(self, key: str) -> int:
        value = self[key]
        assert isinstance(value, int), key
        return value

    def number(self, key: str) -> float:
        value = self[key]
        assert isinstance(value, (int, float)), key
        return float(value)


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    for option in options:
        shown = option.shown or str(option.default)
        where = f"default: {shown}" + (f"; env {option.env}" if option.env else "")
        if option.switch:
            parser.add_argument(option.flag, action="store_const", const="1", default=None,
                                help=f"{option.help} ({where})")
        else:
            parser.add_argument(option.flag, default=None, metavar=option.dest.upper(), help=f"{option.help} ({where})")


def resolve(args: argparse.Namespace, options: tuple[Option, ...]) -> Values:
    """Each option's value: the command line's, else its environment variable's, else the default."""
    values = Values()
    for option in options:
        raw = getattr(args, option.dest, None)
        source = option.flag
        if raw is None and option.env is not None and option.env in os.environ:
            raw, source = os.environ[option.env], option.env
        if raw is None:
            values[option.dest] = option.default
            continue
        try:
            values[option.dest] = option.convert(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return values
