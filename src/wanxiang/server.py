"""Running processes around an App: embedded worker processes and the callback thread."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.store.queue import NOTIFY_CHANNEL
from wanxiang.store.store import Store
from wanxiang.worker.wake import ListenWaiter, PollWaiter, Waiter

log = logging.getLogger("wanxiang")


def make_waiter(store: Store, database_url: str, schema: str | None, doorbell: Any = None) -> Waiter:
    if store.dialect == "postgresql":
        dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
        return ListenWaiter(dsn, NOTIFY_CHANNEL, schema)
    return PollWaiter(doorbell=doorbell)


@dataclass(frozen=True)
class WorkerSpec:
    """What a spawned worker process needs to build its App: the server's own Settings."""

    settings: Settings
    schema: str | None
    log_level: int


def worker_process(spec: WorkerSpec, doorbell: Any = None, pulse: Any = None) -> None:
    """Entry point of one worker process: runs jobs until SIGINT/SIGTERM, then finishes its job.
    ``pulse`` (a shared double) gets the monotonic time at every turn of the worker's loop."""
    logging.basicConfig(level=spec.log_level, format="%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s")
    for noisy in ("pyvips", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # NORMAL (SQLite): a claim or finish lost in a power cut only means the job runs again.
    app = App.open(spec.settings, schema=spec.schema, side="worker", run_migrations=False, synchronous="NORMAL")
    waiter = make_waiter(app.store, spec.settings.resolved_database_url(), spec.schema, doorbell)
    if doorbell is not None:  # jobs this worker creates (batch children, workflow steps) wake the others
        app.store.jobs.wake_hooks.append(doorbell.set)
    worker = app.worker(waiter)
    if pulse is not None:
        worker.pulse = lambda: setattr(pulse, "value", time.monotonic())
    # Start-up objects (modules, the App) live as long as the process: out of the collector's way.
    gc.collect()
    gc.freeze()
    log.info("worker %s started", worker.worker_id)
    worker.run(stop)
    app.close()
    if worker.stuck:
        # An engine thread outlived its job; only ending the process stops it. The pool starts
        # a fresh worker in this one's place.
        log.warning("worker %s exits to be replaced (an engine is stuck)", worker.worker_id)
        logging.shutdown()
        os._exit(0)


class WorkerPool:
    """Embedded worker processes, restarted if one dies (its job is re-claimed after its lease),
    and killed and restarted if one stops beating: a worker's loop (and its wait for an engine)
    beats at least every second, so a process frozen whole, e.g. by an engine that holds the GIL
    for ever where no thread of it can act, is replaced after ``stall_seconds``."""

    def __init__(
        self, spec: WorkerSpec, count: int, *, stall_seconds: float | None = None, target: Any = worker_process
    ) -> None:
        self.spec = spec
        self.count = count
        self.stall_seconds = stall_seconds or max(120.0, 4 * spec.settings.lease_seconds)
        self.target = target
        self.ctx = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.pulses: list[Any] = []
        self.stop = threading.Event()
        self.monitor: threading.Thread | None = None
        self.doorbell = self.ctx.Event()

    def start(self) -> None:
        for _ in range(self.count):
            self.pulses.append(self.ctx.Value("d", time.monotonic(), lock=False))
            self.processes.append(self._spawn(len(self.processes)))
        self.monitor = threading.Thread(target=self._watch, name="worker-monitor", daemon=True)
        self.monitor.start()

    def _spawn(self, index: int) -> Any:
        self.pulses[index].value = time.monotonic()  # starting up counts as a beat
        process = self.ctx.Process(target=self.target, args=(self.spec, self.doorbell, self.pulses[index]), daemon=False)
        process.start()
        return process

    def _watch(self) -> None:
        while not self.stop.wait(1.0):
            for i, process in enumerate(self.processes):
                if self.stop.is_set():
                    return
                if not process.is_alive():
                    log.warning("worker process %s exited (%s); starting another", process.pid, process.exitcode)
                    self.processes[i] = self._spawn(i)
                elif time.monotonic() - self.pulses[i].value > self.stall_seconds:
                    log.error("worker process %s has not beaten for %.0f s; killing it and starting another",
                              process.pid, self.stall_seconds)
                    process.kill()
                    process.join(10)
                    self.processes[i] = self._spawn(i)

    def shutdown(self, grace: float = 30.0) -> None:
        self.stop.set()
        if self.monitor is not None:
            self.monitor.join(30)  # no restart may race the shutdown below
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
    """Delivers the callback outbox of the App's store until shut down."""

    def __init__(self, app: App) -> None:
        self.stop = threading.Event()
        self.deliverer = app.deliverer()
        self.thread = threading.Thread(target=self.deliverer.run, args=(self.stop,), name="callbacks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join(5)
