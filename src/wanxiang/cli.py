"""The ``wanxiang`` command: ``serve`` (API + embedded workers), ``worker`` (workers alone), ``doctor``.

Every option also comes from an environment variable (the command line wins); both are read in
one place, ``wanxiang.options``, so that a bad value is reported by the name the operator used.
A mistake at start-up is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wanxiang import dev_mode
from wanxiang.cli_client import commands as client_commands
from wanxiang.config import ConfigError, Settings, dev_credentials, load_credentials, load_read_only_ids
from wanxiang.ops import startup
from wanxiang.ops.lifecycle import Stopper
from wanxiang.ops.logs import add_secrets, configure
from wanxiang.options import COMMON, DOCTOR, SERVE, WORKER, Values, add_options, resolve

if TYPE_CHECKING:
    from wanxiang.app import App
    from wanxiang.server import WorkerPool, WorkerSpec

log = logging.getLogger("wanxiang")
EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wanxiang",
        description="A self-hosted Tencent Cloud Infinite job server. Every option can also be set by the "
        "environment variable named beside it; the command line wins.",
    )
    parser.add_argument("--version", action="version", version=startup.version_line())
    sub = parser.add_subparsers(dest="command", required=True)
    formatter = argparse.RawDescriptionHelpFormatter
    serve = sub.add_parser("serve", help="run the API and embedded workers", formatter_class=formatter)
    add_options(serve, COMMON + SERVE)
    worker = sub.add_parser(
        "worker", help="run workers only (point them at the shared database and storage)", formatter_class=formatter
    )
    add_options(worker, COMMON + WORKER)
    doctor = sub.add_parser("doctor", help="report which engines, codecs, fonts and models this machine has")
    add_options(doctor, DOCTOR)
    client_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "run"):  # a client command: talks to a running server over HTTP
        logging.basicConfig(level="INFO", format="%(asctime)s %(name)s %(levelname)s %(message)s")
        return int(args.run(args))
    try:
        if args.command == "doctor":
            values = resolve(args, DOCTOR)
            return _doctor(bool(values["strict"]))
        values = resolve(args, COMMON + (SERVE if args.command == "serve" else WORKER))
        configure(values.text("log_level"), values.text("log_format"))
        if args.command == "serve":
            return _serve(values)
        return _worker(values)
    except ConfigError as error:
        print(f"wanxiang {args.command}: {error}", file=sys.stderr, flush=True)
        return EXIT_CONFIG


def _settings(values: Values) -> Settings:
    settings = Settings(
        data_dir=startup.usable_data_dir(Path(values.text("data_dir"))),
        database_url=values.text("database_url"),
        storage_url=values.text("storage_url"),
        workers=values.integer("workers") if values["workers"] is not None else (os.cpu_count() or 1),
        lease_seconds=values.number("lease_seconds"),
        shutdown_grace=values.number("shutdown_grace"),
        allow_private_callbacks=bool(values["allow_private_callbacks"]),
        callback_backoff_seconds=values.number("callback_backoff"),
        job_timeouts=values.text("job_timeout"),
        mq_url=values.text("mq_url"),
        dev=bool(values["dev"]) and not bool(values.get("strict")),
    )
    settings.metrics_token = values.text("metrics_token")
    if "host" in values:  # serve
        settings.host, settings.port = values.text("host"), values.integer("port")
        settings.region, settings.default_bucket = values.text("region"), values.text("default_bucket")
        settings.multipart_expiry_seconds = values.number("multipart_expiry_hours") * 3600
        settings.max_signature_seconds = values.integer("max_signature_window")
        settings.body_timeout_seconds = values.number("body_timeout")
        settings.api_processes = values.integer("api_processes")
        settings.pic_processes = values.integer("pic_processes")
        settings.pic_backlog = values.integer("pic_backlog")
        settings.pic_cache_bytes = values.integer("pic_cache_mb") << 20
    return settings


def _open(settings: Settings, schema: str | None) -> App:
    from wanxiang.app import App
    from wanxiang.storage.registry import open_storage
    from wanxiang.store.db import create_schema, open_engine

    try:
        open_storage(settings.resolved_storage_url())
    except Exception as exc:
        raise startup.storage_failure(settings, exc) from None
    try:
        if schema:
            engine = open_engine(settings.resolved_database_url())
            if engine.dialect.name == "postgresql":
                create_schema(engine, schema)
            engine.dispose()
        return App.open(settings, schema=schema)
    except Exception as exc:
        raise startup.database_failure(settings, exc) from None


def _spec(settings: Settings, values: Values) -> WorkerSpec:
    from wanxiang.server import WorkerSpec

    schema = values.text("database_schema") or None
    return WorkerSpec(settings=settings, schema=schema, log_level=logging.getLogger().level,
                      log_format=values.text("log_format"))


def _serve(values: Values) -> int:
    stopper = Stopper()
    stopper.install()
    settings = _settings(values)
    startup.check_api_processes(settings)
    if settings.api_processes > 1:
        listeners = startup.listen_group(settings.host, settings.port, settings.api_processes)
    else:
        listeners = [startup.listen(settings.host, settings.port)]
    try:
        return _serve_on(listeners, settings, values, stopper)
    finally:
        for listener in listeners:
            listener.close()


def _serve_on(listeners: list[socket.socket], settings: Settings, values: Values, stopper: Stopper) -> int:
    from wanxiang.ops.metrics_dir import remove_shared, share_between_processes

    if settings.dev:
        settings.credentials = dev_credentials(settings.data_dir)
        print(dev_mode.BANNER, flush=True)
    else:
        credentials, note = load_credentials(settings.data_dir)
        settings.credentials = credentials
        if note:
            print(note, flush=True)
    settings.read_only_ids = load_read_only_ids(settings.data_dir)
    add_secrets(settings.credentials.values())
    folder = share_between_processes()  # before the metrics are defined, in this process and the workers
    try:
        return _run_serve(listeners, settings, values, stopper)
    finally:
        remove_shared(folder)


def _run_serve(listeners: list[socket.socket], settings: Settings, values: Values, stopper: Stopper) -> int:
    from wanxiang.server import CallbackThread, WorkerPool

    app = _open(settings, values.text("database_schema") or None)
    if values.text("seed"):
        print(dev_mode.seed_app(app, Path(values.text("seed"))), flush=True)
    pool = WorkerPool(_spec(settings, values), settings.workers)
    app.store.jobs.wake_hooks.append(pool.ring)
    callbacks = CallbackThread(app)
    stopper.on_stop.append(pool.stop_claiming)
    stopper.on_hurry.append(pool.hurry)
    api = (f"{settings.api_processes} API processes, " if settings.api_processes > 1 else "")
    announce = (f"wanxiang listening on http://{settings.host}:{settings.port} "
                f"(database {app.store.dialect}, {api}{settings.workers} worker(s), data in {settings.data_dir})")
    serve = (_serve_from_processes(listeners, settings, values, stopper, pool) if settings.api_processes > 1
             else _serve_here(app, listeners[0], settings, stopper, pool))
    try:
        if not stopper.stopping.is_set():
            pool.start()
            callbacks.start()
            serve(announce)
    finally:
        log.info("stopping: %d worker process(es), grace %gs", settings.workers, settings.shutdown_grace)
        pool.shutdown(settings.shutdown_grace, stopper.hurry)
        callbacks.shutdown()
        app.close()
        log.info("stopped")
    return 0


def _serve_here(
    app: App, listener: object, settings: Settings, stopper: Stopper, pool: WorkerPool
) -> Callable[[str], None]:
    """One API process: this one."""
    from wanxiang.serving import readiness, run_until_stopped, uvicorn_server

    server = uvicorn_server(app, readiness(app, pool.alive if settings.workers > 0 else None))
    stopper.on_stop.append(lambda: setattr(server, "should_exit", True))
    stopper.on_hurry.append(lambda: setattr(server, "force_exit", True))
    return lambda announce: run_until_stopped(server, listener, announce)


def _serve_from_processes(
    listeners: list[socket.socket], settings: Settings, values: Values, stopper: Stopper, pool: WorkerPool
) -> Callable[[str], None]:
    """``--api-processes`` N spawned API processes, one on each of this process's sockets (see
    serving.py); this one keeps the workers, the callback deliverer and their count for /-/ready."""
    from wanxiang.serving import ApiPool, ApiSpec, share_of

    base = _spec(settings, values)
    workers_up = pool.ctx.Value("i", 0, lock=False)
    spec = ApiSpec(settings=share_of(settings, settings.api_processes), schema=base.schema,
                   log_level=base.log_level, log_format=base.log_format, workers_up=workers_up)
    api = ApiPool(spec, listeners)
    stopper.on_stop.append(api.stop_claiming)
    stopper.on_hurry.append(api.hurry)

    def serve(announce: str) -> None:
        api.start()
        try:
            while not stopper.stopping.wait(0.2):
                workers_up.value = pool.alive()
                if announce and api.alive() == api.count:
                    print(announce, flush=True)
                    announce = ""
        finally:
            api.shutdown(settings.shutdown_grace, stopper.hurry)

    return serve


def _worker(values: Values) -> int:
    stopper = Stopper()
    stopper.install()
    settings = _settings(values)
    port = values.integer("metrics_port")
    listener = startup.listen(values.text("metrics_host"), port) if port else None
    from wanxiang.ops.metrics_dir import remove_shared, share_between_processes

    folder = share_between_processes()
    try:
        return _run_worker(settings, values, stopper, listener)
    finally:
        remove_shared(folder)
        if listener is not None:
            listener.close()


def _run_worker(settings: Settings, values: Values, stopper: Stopper, listener: socket.socket | None) -> int:
    from wanxiang.server import CallbackThread, WorkerPool

    app = _open(settings, values.text("database_schema") or None)
    pool = WorkerPool(_spec(settings, values), settings.workers)
    callbacks = CallbackThread(app)
    stopper.on_stop.append(pool.stop_claiming)
    stopper.on_hurry.append(pool.hurry)
    ops_server = None
    if listener is not None:
        settings.host = values.text("metrics_host")  # the metrics' loopback rule looks at the listening address
        ops_server = _ops_server(app, settings, pool, listener)
        stopper.on_stop.append(lambda: setattr(ops_server, "should_exit", True))
    try:
        if not stopper.stopping.is_set():
            pool.start()
            callbacks.start()
            print(f"wanxiang worker: {settings.workers} worker process(es) on database {app.store.dialect}",
                  flush=True)
            while not stopper.stopping.wait(0.5):
                pass
    finally:
        if ops_server is not None:
            ops_server.should_exit = True
        pool.shutdown(settings.shutdown_grace, stopper.hurry)
        callbacks.shutdown()
        app.close()
    return 0


def _ops_server(app: App, settings: Settings, pool: WorkerPool, listener: socket.socket) -> Any:
    """/-/healthy, /-/ready and /-/metrics of a worker machine, on a thread of their own."""
    import asyncio
    import threading

    import uvicorn
    from starlette.applications import Starlette

    from wanxiang.api.ops_routes import ops_routes
    from wanxiang.ops.health import Readiness, database_check, queue_depth, storage_check

    readiness = Readiness({
        "database": database_check(app.store),
        "storage": storage_check(app.storage),
        "workers": lambda: "" if pool.alive() else "no worker process is running",
    })
    http = Starlette(routes=ops_routes(settings, readiness, lambda: queue_depth(app.store)))
    server = uvicorn.Server(uvicorn.Config(http, log_config=None, log_level="warning", access_log=False))
    threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), name="ops-http",
                     daemon=True).start()
    return server


def _doctor(strict: bool) -> int:
    from wanxiang.ops.doctor import report

    lines, missing = report()
    for line in lines:
        print(line)
    if missing:
        print(f"missing for a configured engine: {', '.join(missing)}")
    return 1 if strict and missing else 0


if __name__ == "__main__":
    sys.exit(main())
