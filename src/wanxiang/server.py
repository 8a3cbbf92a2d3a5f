"""Assembling a process: store, storage, services, the HTTP app, embedded workers, callbacks."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from wanxiang import console
from wanxiang.api import ci_routes, object_routes
from wanxiang.api.app import create_app
from wanxiang.api.object_routes import ObjectHooks
from wanxiang.api.router import Router
from wanxiang.api.services_bundle import Services
from wanxiang.callbacks.deliver import Deliverer
from wanxiang.config import Settings
from wanxiang.storage.base import ObjectStorage
from wanxiang.storage.registry import open_storage
from wanxiang.store.jobs import NOTIFY_CHANNEL
from wanxiang.store.store import Store
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import ListenWaiter, PollWaiter, Waiter

log = logging.getLogger("wanxiang")


# Feature modules: each has ``register(router, services, hooks)``; absent ones are skipped.
EXTENSION_MODULES = (
    "wanxiang.api.pic_routes",
    "wanxiang.api.style_routes",
    "wanxiang.api.batch_routes",
    "wanxiang.api.workflow_routes",
)
# Worker side tasks: each module has ``make_side_tasks(store, storage) -> list[Callable[[], bool]]``.
SIDE_TASK_MODULES = ("wanxiang.worker.batches", "wanxiang.worker.workflows")


def side_tasks(store: Store, storage: ObjectStorage) -> list[Callable[[], bool]]:
    import importlib

    tasks: list[Callable[[], bool]] = []
    for name in SIDE_TASK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        tasks.extend(module.make_side_tasks(store, storage))
    return tasks


def build_app(settings: Settings, store: Store, storage: ObjectStorage) -> tuple[Starlette, Services]:
    services = Services.build(settings, store, storage)
    router = Router()
    hooks = ObjectHooks()
    ci_routes.register(router, services)
    _register_extensions(router, services, hooks)
    object_routes.register(router, services, hooks)
    app = create_app(settings, router)
    console.mount(app, console.ConsoleDeps.from_services(services))
    return app, services


def _register_extensions(router: Router, services: Services, hooks: ObjectHooks) -> None:
    """Feature modules that add routes or object hooks (image processing, batch jobs, workflows)."""
    import importlib

    for name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.register(router, services, hooks)


def make_waiter(store: Store, database_url: str, schema: str | None, doorbell: Any = None) -> Waiter:
    if store.dialect == "postgresql":
        dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
        return ListenWaiter(dsn, NOTIFY_CHANNEL, schema)
    return PollWaiter(doorbell=doorbell)


@dataclass(frozen=True)
class WorkerSpec:
    database_url: str
    storage_url: str
    schema: str | None
    lease_seconds: float
    log_level: int


def worker_process(spec: WorkerSpec, doorbell: Any = None) -> None:
    """Entry point of one worker process: runs jobs until SIGINT/SIGTERM, then finishes its job."""
    logging.basicConfig(level=spec.log_level, format="%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s")
    for noisy in ("pyvips", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    store = Store.open(spec.database_url, schema=spec.schema, run_migrations=False, synchronous="NORMAL")
    storage = open_storage(spec.storage_url)
    waiter = make_waiter(store, spec.database_url, spec.schema, doorbell)
    if doorbell is not None:  # jobs this worker creates (batch children, workflow steps) wake the others
        store.jobs.wake_hooks.append(doorbell.set)
    worker = Worker(store, storage, waiter, lease_seconds=spec.lease_seconds)
    worker.side_tasks = side_tasks(store, storage)
    log.info("worker %s started", worker.worker_id)
    worker.run(stop)
    store.close()


class WorkerPool:
    """Embedded worker processes, restarted if one dies (its job is re-claimed after its lease)."""

    def __init__(self, spec: WorkerSpec, count: int) -> None:
        self.spec = spec
        self.count = count
        self.ctx = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.stop = threading.Event()
        self.monitor: threading.Thread | None = None
        self.doorbell = self.ctx.Event()

    def start(self) -> None:
        for _ in range(self.count):
            self.processes.append(self._spawn())
        self.monitor = threading.Thread(target=self._watch, name="worker-monitor", daemon=True)
        self.monitor.start()

    def _spawn(self) -> Any:
        process = self.ctx.Process(target=worker_process, args=(self.spec, self.doorbell), daemon=False)
        process.start()
        return process

    def _watch(self) -> None:
        while not self.stop.wait(1.0):
            for i, process in enumerate(self.processes):
                if not process.is_alive() and not self.stop.is_set():
                    log.warning("worker process %s exited (%s); starting another", process.pid, process.exitcode)
                    self.processes[i] = self._spawn()

    def shutdown(self, grace: float = 30.0) -> None:
        self.stop.set()
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: finish the current job, then exit
        for process in self.processes:
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()


    def ring(self) -> None:
        self.doorbell.set()


class CallbackThread:
    def __init__(self, store: Store, allow_private: bool, backoff_seconds: float) -> None:
        self.stop = threading.Event()
        self.deliverer = Deliverer(store.callbacks, allow_private=allow_private, backoff_seconds=backoff_seconds)
        self.thread = threading.Thread(target=self.deliverer.run, args=(self.stop,), name="callbacks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join(5)
