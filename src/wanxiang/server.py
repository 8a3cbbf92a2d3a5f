"""Running processes around an App: embedded worker processes (and, through the same pool, extra API
processes: see serving.py) and the callback thread."""

from __future__ import annotations

import contextlib
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
from wanxiang.ops import metrics
from wanxiang.ops.lifecycle import HURRY, WorkerSignals
from wanxiang.ops.logs import add_secrets, configure
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
    log_format: str = "text"


def worker_process(spec: WorkerSpec, doorbell: Any = None, pulse: Any = None) -> None:
    """Entry point of one worker process: runs jobs until told to stop (see ``WorkerSignals``).
    ``pulse`` (a shared double) gets the monotonic time at every turn of the worker's loop."""
    stop = threading.Event()
    holder: list[Any] = []  # the Worker, once built: the signal thread may need to hand its job back
    signals = WorkerSignals(stop, spec.settings.shutdown_grace, lambda: holder[0].hand_back() if holder else None)
    signals.start()
    configure(spec.log_level, spec.log_format)
    add_secrets(spec.settings.credentials.values())
    # NORMAL (SQLite): a claim or finish lost in a power cut only means the job runs again.
    app = App.open(spec.settings, schema=spec.schema, side="worker", run_migrations=False, synchronous="NORMAL")
    waiter = make_waiter(app.store, spec.settings.resolved_database_url(), spec.schema, doorbell)
    if doorbell is not None:  # jobs this worker creates (batch children, workflow steps) wake the others
        app.store.jobs.wake_hooks.append(doorbell.set)
    worker = app.worker(waiter)
    holder.append(worker)
    if pulse is not None:
        worker.pulse = lambda: setattr(pulse, "value", time.monotonic())
    # Start-up objects (modules, the App) live as long as the process: out of the collector's way.
    gc.collect()
    gc.freeze()
    log.info("worker %s started (process %d)", worker.worker_id, os.getpid())
    worker.run(stop)
    log.info("worker %s stopped (process %d)", worker.worker_id, os.getpid())
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
    for ever where no thread of it can act, is replaced after ``stall_seconds``. A worker is *up*
    (``alive``) once it has beaten since it was started: its App is open and its loop turns.

    ``serve --api-processes N`` runs its API processes in a pool of this kind too (``kind="API"``,
    ``target=serving.api_process``): they restart, stop and follow a dead parent like workers."""

    def __init__(
        self, spec: WorkerSpec, count: int, *, stall_seconds: float | None = None, target: Any = worker_process,
        kind: str = "worker",
    ) -> None:
        self.spec = spec
        self.count = count
        self.kind = kind
        self.stall_seconds = stall_seconds or max(120.0, 4 * spec.settings.lease_seconds)
        self.target = target
        self.ctx = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.pulses: list[Any] = []
        self.spawned: list[float] = []
        self.stop = threading.Event()
        self.monitor: threading.Thread | None = None
        self.doorbell = self.ctx.Event()

    def start(self) -> None:
        for _ in range(self.count):
            self.pulses.append(self.ctx.Value("d", time.monotonic(), lock=False))
            self.spawned.append(0.0)
            self.processes.append(self._spawn(len(self.processes)))
        self.monitor = threading.Thread(target=self._watch, name=f"{self.kind.lower()}-monitor", daemon=True)
        self.monitor.start()

    def _spawn(self, index: int) -> Any:
        self.spawned[index] = time.monotonic()
        self.pulses[index].value = self.spawned[index]  # starting up counts as a beat
        process = self.ctx.Process(
            target=self.target, args=(self.spec_for(index), self.doorbell, self.pulses[index]), daemon=False,
            name=f"wanxiang-{self.kind.lower()}-{index}",
        )
        process.start()
        return process

    def spec_for(self, index: int) -> WorkerSpec:
        """What the process in slot ``index`` (and each replacement of it) is started with."""
        return self.spec

    def _watch(self) -> None:
        while not self.stop.wait(1.0):
            for i, process in enumerate(self.processes):
                if self.stop.is_set():
                    return
                if not process.is_alive():
                    log.warning("%s process %s exited (%s); starting another", self.kind, process.pid,
                                process.exitcode)
                    metrics.process_exited(process.pid)
                    self.processes[i] = self._spawn(i)
                elif time.monotonic() - self.pulses[i].value > self.stall_seconds:
                    log.error("%s process %s has not beaten for %.0f s; killing it and starting another",
                              self.kind, process.pid, self.stall_seconds)
                    process.kill()
                    process.join(10)
                    metrics.process_exited(process.pid)
                    self.processes[i] = self._spawn(i)

    def alive(self) -> int:
        """Processes running and up (beaten since they were started)."""
        return sum(
            1 for i, p in enumerate(self.processes) if p.is_alive() and self.pulses[i].value > self.spawned[i]
        )

    def _signal(self, sig: int) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, sig)

    def stop_claiming(self) -> None:
        """No new claims; running jobs may finish within the grace period (safe in a signal handler)."""
        self.stop.set()
        self._signal(signal.SIGTERM)

    def hurry(self) -> None:
        """Hand running jobs back and exit now."""
        self._signal(HURRY)

    def shutdown(self, grace: float, hurry: threading.Event | None = None) -> None:
        """Stop every process: a worker finishes its job within ``grace`` seconds, or hands it back
        (an API process its requests); one that does not exit a few seconds after that is killed."""
        self.stop.set()
        if self.monitor is not None:
            self.monitor.join(30)  # no restart may race the signals below
        self.stop_claiming()
        deadline = time.monotonic() + grace + 5.0
        hurried = False
        while any(p.is_alive() for p in self.processes):
            if hurry is not None and hurry.is_set() and not hurried:
                hurried = True
                self.hurry()
                deadline = min(deadline, time.monotonic() + 5.0)
            if time.monotonic() >= deadline:
                for process in self.processes:
                    if process.is_alive():
                        log.error("%s process %s did not stop; killing it", self.kind, process.pid)
                        process.kill()
                break
            for process in self.processes:
                process.join(0.05)
        for process in self.processes:
            process.join()
            metrics.process_exited(process.pid)

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
