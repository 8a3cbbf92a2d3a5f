"""Serving the HTTP API: uvicorn in the ``serve`` process itself, or in ``--api-processes`` N
spawned API processes, each on a listening socket of its own that the parent bound at start.

The N sockets share the port through SO_REUSEPORT (``startup.listen_group``), so the kernel spreads
new connections over the processes by address hash. One socket shared by all, the other way, spreads
them badly: every process's asyncio accept loop races for each connection and the one the kernel
wakes first mostly wins, as its loop sits idle while its requests wait in threads (one process took
69-78% of the submits in bench/api_processes.py, against 52-56% here). What a shared socket gave is
kept:

- the port is bound once, by the parent, before anything starts: a taken port is still the first
  and only line (and a listener already on the port, even one that set SO_REUSEPORT too, is refused
  the same way);
- the parent keeps every socket open, and a replacement API process gets the socket of the one it
  replaces, so connections waiting in a dead process's queue are served by its replacement, never
  reset;
- at a stop the parent closes its copies and each API process closes its own as it stops accepting,
  so new connections are refused while the requests in flight finish, as with one process.

An API process is a child of a ``WorkerPool`` of kind ``API``: restarted if it dies, stopped by
SIGTERM/SIGINT (requests in flight finish within the grace period), hurried by SIGUSR2, and stopped
when its parent dies, by the same ``WorkerSignals`` watch as a worker process. Worker processes, the
callback deliverer and the side tasks stay with the parent: once per server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from wanxiang.api.http_server import server_config
from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.ops.health import Readiness, database_check, storage_check
from wanxiang.ops.lifecycle import WorkerSignals
from wanxiang.ops.logs import add_secrets, configure
from wanxiang.server import WorkerPool, WorkerSpec

log = logging.getLogger("wanxiang")
NO_WORKERS = "no worker process is running"


@dataclasses.dataclass(frozen=True)
class ApiSpec(WorkerSpec):
    """What a spawned API process needs: the server's Settings (with its share of the image
    processing budget), the listening socket, and the parent's count of worker processes up."""

    listener: Any = None  # this process's socket.socket, passed to it as an open descriptor
    workers_up: Any = None  # multiprocessing Value("i"), kept current by the parent


def share_of(settings: Settings, processes: int) -> Settings:
    """One API process's Settings: --pic-processes, --pic-backlog and --pic-cache-mb are the server's
    totals, split between its API processes (at least one image processing child each, so that
    none processes images inside an API process; 0 stays 0: in-process by choice)."""
    pic = settings.pic_processes
    return dataclasses.replace(
        settings,
        pic_processes=max(1, pic // processes) if pic > 0 else 0,
        pic_backlog=math.ceil(settings.pic_backlog / processes),
        pic_cache_bytes=settings.pic_cache_bytes // processes,
    )


def readiness(app: App, workers_up: Callable[[], int] | None) -> Readiness:
    """What /-/ready checks: the database, the storage and, with embedded workers, that one is up."""
    ready = Readiness({"database": database_check(app.store), "storage": storage_check(app.storage)})
    if workers_up is not None:
        ready.checks["workers"] = lambda: "" if workers_up() else NO_WORKERS
    return ready


def uvicorn_server(app: App, ready: Readiness) -> Any:
    """uvicorn's Server without its own signal handling: ``Stopper`` or ``WorkerSignals`` own SIGTERM
    and SIGINT (uvicorn would re-raise the signal after its loop and kill the process before the
    workers are stopped). log_config=None: uvicorn's own few lines go through our handler and format."""
    import uvicorn

    class Server(uvicorn.Server):
        def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
            return contextlib.nullcontext()

    settings = app.settings
    return Server(server_config(
        app.http(ready), settings.host, settings.port, log_config=None,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace),
    ))


def run_until_stopped(
    server: Any, listener: object, announce: str = "", *, stop: threading.Event | None = None,
    beat: Callable[[], None] | None = None,
) -> None:
    """Run uvicorn on the socket bound at start until ``server.should_exit`` (or ``stop``) is set;
    print ``announce`` once it serves; call ``beat`` at every turn while it serves."""
    import asyncio

    from wanxiang import console

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if server.started and announce:
            print(announce, flush=True)
        while not serving.done():
            if stop is not None and stop.is_set():
                server.should_exit = True
            if server.should_exit:  # a signal arrived: let the console's live streams end
                console.stopping()
            elif beat is not None and server.started:
                beat()
            await asyncio.sleep(0.1)
        await serving

    if stop is None or not stop.is_set():
        asyncio.run(main())


def api_process(spec: ApiSpec, _doorbell: Any = None, pulse: Any = None) -> None:
    """Entry point of one API process (``WorkerPool`` target): serves until told to stop."""
    stop = threading.Event()
    ended = threading.Event()
    servers: list[Any] = []

    def end_requests_now() -> None:  # a second signal, or the grace period over
        for server in servers:
            server.force_exit = True
        ended.wait()

    WorkerSignals(stop, spec.settings.shutdown_grace, end_requests_now, kind="API").start()
    configure(spec.log_level, spec.log_format)
    add_secrets(spec.settings.credentials.values())
    try:
        app = App.open(spec.settings, schema=spec.schema, run_migrations=False)  # the parent migrated
        try:
            up = spec.workers_up
            server = uvicorn_server(app, readiness(app, (lambda: up.value) if spec.settings.workers > 0 else None))
            servers.append(server)
            log.info("API process %d started", os.getpid())
            beat = (lambda: setattr(pulse, "value", time.monotonic())) if pulse is not None else None
            run_until_stopped(server, spec.listener, stop=stop, beat=beat)
        finally:
            app.close()
    finally:
        ended.set()
    log.info("API process %d stopped", os.getpid())


class ApiPool(WorkerPool):
    """The API processes of ``serve --api-processes N``: the process in slot i, and every replacement
    of it, serves on ``listeners[i]``."""

    def __init__(self, spec: ApiSpec, listeners: list[socket.socket]) -> None:
        super().__init__(spec, len(listeners), target=api_process, kind="API")
        self.api_spec = spec
        self.listeners = listeners

    def spec_for(self, index: int) -> WorkerSpec:
        return dataclasses.replace(self.api_spec, listener=self.listeners[index])

    def shutdown(self, grace: float, hurry: threading.Event | None = None) -> None:
        self.stop.set()
        if self.monitor is not None:
            self.monitor.join(30)  # no replacement is being started with a socket
        for listener in self.listeners:  # new connections are refused once the processes close theirs
            listener.close()
        super().shutdown(grace, hurry)
