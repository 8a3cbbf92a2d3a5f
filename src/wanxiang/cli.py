"""The ``wanxiang`` command: ``serve`` (API + embedded workers), ``worker`` (workers alone), ``doctor``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanxiang import dev_mode
from wanxiang.cli_client import commands as client_commands
from wanxiang.config import Settings, dev_credentials, load_credentials, load_read_only_ids

if TYPE_CHECKING:
    from wanxiang.app import App
    from wanxiang.server import WorkerSpec

log = logging.getLogger("wanxiang")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=os.environ.get("WANXIANG_DATA_DIR", "./data"), help="default ./data")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("WANXIANG_DATABASE_URL", ""),
        help="SQLAlchemy URL; default SQLite in the data dir (postgresql://... for many machines)",
    )
    parser.add_argument(
        "--database-schema",
        default=os.environ.get("WANXIANG_DATABASE_SCHEMA") or None,
        help="PostgreSQL schema to use (created if missing)",
    )
    parser.add_argument(
        "--storage-url",
        default=os.environ.get("WANXIANG_STORAGE_URL", ""),
        help="object storage: local:/path (default <data-dir>/objects), memory:, or s3://bucket/prefix?endpoint=...",
    )
    parser.add_argument("--log-level", default=os.environ.get("WANXIANG_LOG_LEVEL", "INFO"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wanxiang", description="A self-hosted Tencent Cloud Infinite job server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API and embedded workers")
    _common(serve)
    serve.add_argument("--host", default=os.environ.get("WANXIANG_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("WANXIANG_PORT", "8080")))
    serve.add_argument("--workers", type=int, default=None, help="embedded worker processes (default: CPU count)")
    serve.add_argument("--region", default=os.environ.get("WANXIANG_REGION", "ap-guangzhou"))
    serve.add_argument("--default-bucket", default=os.environ.get("WANXIANG_DEFAULT_BUCKET", ""))
    serve.add_argument("--lease-seconds", type=float, default=30.0)
    dev_mode.add_arguments(serve)
    serve.add_argument(
        "--multipart-expiry-hours",
        type=float,
        default=float(os.environ.get("WANXIANG_MULTIPART_EXPIRY_HOURS", "168")),
        help="unfinished multipart uploads older than this are removed (default 168 = 7 days)",
    )
    serve.add_argument(
        "--pic-processes",
        type=int,
        default=int(os.environ.get("WANXIANG_PIC_PROCESSES", "2")),
        help="child processes for image processing on download and upload (503 SlowDown when all are busy); "
        "0 runs it inside the API process, unisolated",
    )
    serve.add_argument(
        "--pic-cache-mb",
        type=int,
        default=int(os.environ.get("WANXIANG_PIC_CACHE_MB", "64")),
        help="memory for results of processing on download, reused while the object and rule are the same (0: off)",
    )
    serve.add_argument(
        "--pic-backlog",
        type=int,
        default=int(os.environ.get("WANXIANG_PIC_BACKLOG", "8")),
        help="image processing requests that may wait for a free child before 503 SlowDown",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=float(os.environ.get("WANXIANG_BODY_TIMEOUT", "60")),
        help="408 RequestTimeout when no byte of a request body arrives for this many seconds",
    )
    serve.add_argument(
        "--max-signature-window",
        type=int,
        default=int(os.environ.get("WANXIANG_MAX_SIGNATURE_WINDOW", str(7 * 24 * 3600))),
        help="longest q-sign-time window accepted, in seconds (default 7 days)",
    )
    worker = sub.add_parser("worker", help="run workers only (point them at the shared database and storage)")
    _common(worker)
    worker.add_argument("--workers", type=int, default=None)
    worker.add_argument("--lease-seconds", type=float, default=30.0)
    worker.add_argument("--dev", action="store_true", default=os.environ.get("WANXIANG_DEV") == "1",
                        help="apply the test modes of a dev-mode server (WANXIANG_DEV=1)")
    for command in (serve, worker):
        command.add_argument(
            "--allow-private-callbacks",
            action="store_true",
            default=os.environ.get("WANXIANG_ALLOW_PRIVATE_CALLBACKS") == "1",
            help="let callbacks reach private/loopback addresses",
        )
        command.add_argument("--callback-backoff", type=float, default=5.0, help="first retry delay of a failed callback (s)")
        command.add_argument(
            "--mq-url",
            type=_amqp_url,
            default=os.environ.get("WANXIANG_MQ_URL", ""),
            help="RabbitMQ broker (amqp://user:pass@host:5672/vhost) for CallBackType/NotifyConfig Type TDMQ",
        )
        command.add_argument(
            "--job-timeout",
            type=_job_timeouts,
            default=os.environ.get("WANXIANG_JOB_TIMEOUTS", ""),
            help="'<Tag or QueueId>=<seconds>,...': job deadlines over the per-Tag defaults (JobTimeout past them)",
        )
    sub.add_parser("doctor", help="report which engines, models and language pairs are available")
    client_commands.register(sub)
    return parser


def _job_timeouts(spec: str) -> str:
    from wanxiang.worker.deadlines import JobDeadlines

    try:
        JobDeadlines.parse(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return spec


def _amqp_url(url: str) -> str:
    from urllib.parse import urlsplit

    if url and (urlsplit(url).scheme not in ("amqp", "amqps") or not urlsplit(url).hostname):
        raise argparse.ArgumentTypeError(f"must be an amqp:// or amqps:// URL with a host, not {url!r}")
    return url


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level if hasattr(args, "log_level") else "INFO",
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("alembic", "pyvips", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "doctor":
        return _doctor()
    if hasattr(args, "run"):  # a client command: talks to a running server over HTTP
        return int(args.run(args))
    settings = _settings(args)
    try:
        if args.command == "serve":
            return _serve(args, settings)
        return _worker(args, settings)
    except KeyboardInterrupt:
        # Ctrl-C before the HTTP server took over its signals: the finally blocks have cleaned up.
        return 0


def _settings(args: argparse.Namespace) -> Settings:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data_dir,
        database_url=args.database_url,
        storage_url=args.storage_url,
        workers=args.workers if args.workers is not None else (os.cpu_count() or 1),
        lease_seconds=args.lease_seconds,
        allow_private_callbacks=args.allow_private_callbacks,
        callback_backoff_seconds=args.callback_backoff,
        dev=args.dev,
        mq_url=args.mq_url,
        job_timeouts=args.job_timeout,
    )
    if args.command == "serve":
        settings.host, settings.port, settings.region = args.host, args.port, args.region
        settings.default_bucket = args.default_bucket
        settings.multipart_expiry_seconds = args.multipart_expiry_hours * 3600
        settings.max_signature_seconds = args.max_signature_window
        settings.body_timeout_seconds = args.body_timeout
        settings.pic_processes = max(0, args.pic_processes)
        settings.pic_backlog = max(0, args.pic_backlog)
        settings.pic_cache_bytes = max(0, args.pic_cache_mb) << 20
    return settings


def _open(settings: Settings, schema: str | None) -> App:
    from wanxiang.app import App
    from wanxiang.store.db import create_schema, open_engine

    if schema:
        engine = open_engine(settings.resolved_database_url())
        if engine.dialect.name == "postgresql":
            create_schema(engine, schema)
        engine.dispose()
    return App.open(settings, schema=schema)


def _spec(settings: Settings, args: argparse.Namespace) -> WorkerSpec:
    from wanxiang.server import WorkerSpec

    return WorkerSpec(settings=settings, schema=args.database_schema, log_level=logging.getLogger().level)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from wanxiang.api.http_server import server_config
    from wanxiang.server import CallbackThread, WorkerPool

    if settings.dev:
        settings.credentials = dev_credentials(settings.data_dir)
        print(dev_mode.BANNER, flush=True)
    else:
        credentials, generated = load_credentials(settings.data_dir)
        settings.credentials = credentials
        if generated:
            print(generated, flush=True)
    settings.read_only_ids = load_read_only_ids(settings.data_dir)
    app = _open(settings, args.database_schema)
    if args.seed:
        print(dev_mode.seed_app(app, Path(args.seed)), flush=True)
    pool = WorkerPool(_spec(settings, args), settings.workers)
    app.store.jobs.wake_hooks.append(pool.ring)
    callbacks = CallbackThread(app)
    pool.start()
    callbacks.start()
    server = uvicorn.Server(server_config(app.http(), settings.host, settings.port))
    announce = (f"wanxiang listening on http://{settings.host}:{settings.port} "
                f"(database {app.store.dialect}, {settings.workers} worker(s), data in {settings.data_dir})")
    try:
        _run_until_stopped(server, announce)
    finally:
        callbacks.shutdown()
        pool.shutdown()
        app.close()
    return 0


def _run_until_stopped(server: Any, announce: str) -> None:
    """Run uvicorn; say we are listening only once the socket is bound. A Ctrl-C that lands
    while uvicorn is still starting is a clean stop too, not a startup failure."""
    import asyncio

    from wanxiang import console

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if server.started:
            print(announce, flush=True)
        while not serving.done():
            if server.should_exit:  # a signal arrived: let the console's live streams end
                console.stopping()
            await asyncio.sleep(0.1)
        await serving

    asyncio.run(main())
    if not server.started and not server.should_exit:
        raise SystemExit(3)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from wanxiang.server import CallbackThread, WorkerPool

    app = _open(settings, args.database_schema)
    pool = WorkerPool(_spec(settings, args), settings.workers)
    callbacks = CallbackThread(app)
    pool.start()
    callbacks.start()
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        callbacks.shutdown()
        pool.shutdown()
        app.close()
    return 0


def _doctor() -> int:
    try:
        from wanxiang.engines.doctor import report
    except ImportError:
        print("engine report unavailable")
        return 1
    for line in report():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
