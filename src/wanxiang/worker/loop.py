"""One worker: claim a job, keep its lease alive, run its engine, record the outcome.

A worker that dies mid-job loses only its lease: once the lease lapses, any worker's
``release_expired`` gives the job back to the queue, and the dead worker's token can no longer
finish it.

Every job has a deadline (:mod:`wanxiang.worker.deadlines`). The engine runs in a thread the
worker waits for until then; past it, the job ends ``Failed`` with Code ``JobTimeout``, its JobIO
refuses further writes, and the worker stops (``stuck`` is set) so that its process is replaced:
a thread cannot be killed, a process can. The lease is renewed only until the deadline, so even
an engine that blocks the whole process loses the job to another worker instead of holding it.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from wanxiang.engines import catalog
from wanxiang.engines.base import EngineJob
from wanxiang.model import times
from wanxiang.model.errors import JobCancelled, JobFailure
from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import Tree
from wanxiang.ops import metrics
from wanxiang.ops.logs import event
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.codec import dumps, from_us, to_us
from wanxiang.store.queue import Claim, Lease
from wanxiang.store.store import Store
from wanxiang.worker.deadlines import JobDeadlines
from wanxiang.worker.jobio import StorageJobIO
from wanxiang.worker.notify import task_finish_callbacks
from wanxiang.worker.wake import Waiter

log = logging.getLogger("wanxiang.worker")
T = TypeVar("T")


class _HeldLease:
    """The job a worker runs now, as its lease thread sees it."""

    def __init__(self, claim: Claim, deadline: float) -> None:
        self.claim = claim
        self.deadline = deadline  # monotonic; past it the engine is not vouched for any more
        self.progress: int | None = None
        self.lost = False
        self.cancelled = threading.Event()  # a user asked the job to stop; the engine stops at its next step

    def report_progress(self, percent: int) -> None:
        self.progress = percent


class _EngineThread:
    """The thread engines run in, kept for the worker's life. A daemon, unlike an executor's: an
    engine stuck past its deadline must not keep the process from exiting."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._tasks.put((fn, future))
        return future

    def close(self) -> None:
        self._tasks.put(None)

    def _loop(self) -> None:
        while (task := self._tasks.get()) is not None:
            fn, future = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as error:  # noqa: BLE001 - handed to the waiting worker
                    future.set_exception(error)


class _LeaseKeeper:
    """One thread per worker that renews the lease of the job in hand every ``interval`` (not a
    thread started and joined per job)."""

    def __init__(self, renew: Callable[[_HeldLease], Lease], interval: float, name: str) -> None:
        self._renew = renew
        self._interval = interval
        self._held: _HeldLease | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{name}", daemon=True)
        self._thread.start()

    def hold(self, held: _HeldLease) -> None:
        with self._lock:
            self._held = held

    def release(self, held: _HeldLease) -> None:
        """After this returns no renewal of ``held`` is in flight (finish may follow at once)."""
        with self._lock:
            if self._held is held:
                self._held = None

    def close(self) -> None:
        self._closed.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._closed.wait(self._interval):
            with self._lock:  # held while renewing, so release() waits for a renewal in flight
                held = self._held
                if held is None or held.lost or time.monotonic() > held.deadline:
                    continue
                try:
                    lease = self._renew(held)
                except Exception:  # a database hiccup: try again next interval
                    log.exception("lease renewal failed")
                    continue
                if lease is Lease.LOST:
                    held.lost = True
                elif lease is Lease.CANCEL_REQUESTED:
                    held.cancelled.set()  # keep the lease until the engine stops

CANCELED_WHILE_RUNNING = "The job was canceled while running; it stored no output."


@dataclass
class Worker:
    store: Store
    storage: ObjectStorage
    waiter: Waiter
    lease_seconds: float = 30.0
    reap_every: float = 2.0
    idle_wait: float = 1.0
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    on_finished: Callable[[Job], None] | None = None
    # Other durable work a worker does between jobs (batch walks, workflow steps); each returns
    # True when it did something.
    side_tasks: list[Callable[[], bool]] = field(default_factory=list)
    # Idle side tasks are polled at most this often; while they find work they run every turn.
    side_task_every: float = 0.25
    deadlines: JobDeadlines = field(default_factory=JobDeadlines)
    # Set when an engine outlived its job's deadline: its thread still runs, so this worker stops
    # taking jobs and its process should exit to be replaced.
    stuck: bool = False
    # Called at every turn of the loop and every second while an engine runs: a liveness beat
    # for whoever watches this worker's process (the WorkerPool).
    pulse: Callable[[], None] | None = None
    dev: bool = False  # dev mode: test modes (manual holds, planned failures) apply
    _last_reap: float = 0.0
    _last_side: float = 0.0
    _side_busy: bool = False
    # The claim being run, and the lock that makes finishing it and handing it back exclusive.
    _current: Claim | None = None
    _holding: threading.Lock = field(default_factory=threading.Lock)
    _lease_keeper: _LeaseKeeper | None = None
    _engine: _EngineThread | None = None

    def run(self, stop: threading.Event) -> None:
        metrics.WORKERS.labels("idle").inc()
        try:
            self._loop(stop)
        finally:
            metrics.WORKERS.labels("idle").dec()
            self.close()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set() and not self.stuck:
            self._beat()
            try:
                if self.run_once():
                    self.waiter.reset()
                else:
                    self.waiter.wait(self.idle_wait)
            except Exception:  # a database hiccup must not end the worker
                log.exception("worker %s: loop error", self.worker_id)
                stop.wait(1.0)

    def close(self) -> None:
        """Stop the lease thread and the engine thread (a stuck engine's thread is left behind)."""
        if self._lease_keeper is not None:
            self._lease_keeper.close()
            self._lease_keeper = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def _leases(self) -> _LeaseKeeper:
        if self._lease_keeper is None:
            self._lease_keeper = _LeaseKeeper(self._renew, self.lease_seconds / 3, self.worker_id)
        return self._lease_keeper

    def _renew(self, held: _HeldLease) -> Lease:
        """Extend the lease of the job in hand; what the renewal found (held, lost, cancel asked)."""
        claim = held.claim
        return self.store.job_queue.renew(
            claim.job.job_id, claim.lease_token, times.now(), self.lease_seconds, held.progress
        )

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        now = time.monotonic()
        if now - self._last_reap >= self.reap_every:
            self._last_reap = now
            released = self.store.job_queue.release_expired(times.now())
            if released:
                metrics.JOBS_RELEASED.labels("lease_lapsed").inc(released)
                log.warning("released %d job(s) whose worker stopped renewing its lease", released)
        did_side_work = False
        if self.side_tasks and (self._side_busy or now - self._last_side >= self.side_task_every):
            self._last_side = now
            for task in self.side_tasks:
                did_side_work = task() or did_side_work
            self._side_busy = did_side_work
        claim = self.store.job_queue.claim(times.now(), self.lease_seconds, dev=self.dev)
        if claim is None and self.dev:
            claim = self.store.job_queue.claim_advanced(times.now(), self.lease_seconds)
        if claim is None:
            return did_side_work
        with self._holding:
            self._current = claim
        metrics.WORKERS.labels("idle").dec()
        metrics.WORKERS.labels("busy").inc()
        try:
            self._run(claim)
        finally:
            metrics.WORKERS.labels("busy").dec()
            metrics.WORKERS.labels("idle").inc()
        return True

    def hand_back(self) -> None:
        """Give the running job back to its queue now (this worker is stopping before it ends);
        its outcome, if the engine still ends, is then not recorded by this worker."""
        with self._holding:
            claim, self._current = self._current, None
            if claim is None:
                return
            if self.store.job_queue.hand_back(claim.job.job_id, claim.lease_token):
                metrics.JOBS_RELEASED.labels("handed_back").inc()
                event(log, logging.INFO, "job handed back", job_id=claim.job.job_id, tag=claim.job.tag,
                      worker=self.worker_id)

    def _run(self, claim: Claim) -> None:
        job = claim.job
        started = time.monotonic()
        wait = (job.start_time - job.creation_time).total_seconds() if job.start_time and job.creation_time else None
        if wait is not None:
            metrics.QUEUE_WAIT.labels(job.tag).observe(max(0.0, wait))
        event(log, logging.INFO, "job started", job_id=job.job_id, tag=job.tag, queue=job.queue_id,
              bucket=job.bucket_id, worker=self.worker_id, attempt=claim.attempt,
              queue_wait_s=None if wait is None else round(wait, 3))
        seconds = self.deadlines.seconds_for(job.tag, job.queue_id)
        held = _HeldLease(claim, time.monotonic() + seconds)
        self._leases().hold(held)
        io = StorageJobIO(
            self.storage,
            job.bucket_id,
            job.region,
            job.input_object,
            _output_of(job),
            held.report_progress,
            held.cancelled,
        )
        try:
            state, code, message, result = self._execute_within(job, io, seconds)
            if state == JobState.CANCEL:
                io.discard_outputs()
        finally:
            self._leases().release(held)
            io.close()
        if held.lost:
            log.warning("job %s: lease lost while running; its new owner records the outcome", job.job_id)
        # Read at finish, not cached: a NotifyConfig change applies to the very next job.
        queue = self.store.queues.get(job.queue_id)
        end = times.now()
        # The notifications are rendered here, from the job as finish will record it, so that the
        # store only writes them (in the same transaction as the outcome).
        callbacks = task_finish_callbacks(_finished(job, end, state, code, message, result), queue)
        with self._holding:
            if self._current is not claim:  # handed back meanwhile: no longer ours to finish
                return
            self._current = None
            finished = self.store.job_queue.finish(
                job.job_id, claim.lease_token, end, state, code, message, result, callbacks=callbacks
            )
        duration = time.monotonic() - started
        if finished is None:
            event(log, logging.WARNING, "job outcome not recorded: its lease was taken over", job_id=job.job_id,
                  tag=job.tag, worker=self.worker_id, state=str(state), code=code)
            return
        metrics.JOBS_FINISHED.labels(job.tag, str(state), code).inc()
        metrics.JOB_SECONDS.labels(job.tag).observe(duration)
        event(log, logging.INFO if state == JobState.SUCCESS else logging.WARNING, "job finished",
              job_id=job.job_id, tag=job.tag, worker=self.worker_id, state=str(state), code=code,
              job_message=message[:300] if state != JobState.SUCCESS else None, duration_s=round(duration, 3),
              callbacks=len(callbacks) or None)
        if self.on_finished is not None:
            self.on_finished(finished)

    def _execute_within(self, job: Job, io: StorageJobIO, seconds: float) -> tuple[JobState, str, str, Tree]:
        if self._engine is None:  # one engine thread for the worker's life, not one per job
            self._engine = _EngineThread(f"engine-{self.worker_id}")
        future = self._engine.submit(lambda: self._execute(job, io))
        deadline = time.monotonic() + seconds
        while not future.done() and (left := deadline - time.monotonic()) > 0:
            concurrent.futures.wait([future], timeout=min(1.0, left))
            self._beat()
        try:
            return future.result(timeout=0)
        except concurrent.futures.TimeoutError:
            pass
        except BaseException:  # it raised past _execute's net (SystemExit and the like)
            return JobState.FAILED, "InternalError", f"The {job.tag} engine stopped without a result.", {}
        io.abandon()
        self._engine.close()  # its thread is stuck in the engine; this worker is done
        self._engine = None
        self.stuck = True
        log.error(
            "job %s: the %s engine ran past its %g s deadline; failing the job and replacing this worker",
            job.job_id, job.tag, seconds,
        )
        return JobState.FAILED, "JobTimeout", f"The job ran longer than its {seconds:g} s deadline ({job.tag}).", {}

    def _beat(self) -> None:
        if self.pulse is not None:
            self.pulse()

    def _execute(self, job: Job, io: StorageJobIO) -> tuple[JobState, str, str, Tree]:
        planned = self.store.test_modes.take_failure(job.queue_id, job.tag) if self.dev else None
        if planned is not None:  # the fail-next test mode
            return JobState.FAILED, planned[0], planned[1], {}
        engine = catalog.engine(job.tag)
        if engine is None:
            return JobState.FAILED, "UnsupportedTag", f"No engine is installed for Tag {job.tag}.", {}
        operation = dict(job.operation)
        operation.update(job.params)
        engine_job = EngineJob(job.job_id, job.tag, job.bucket_id, job.region, dict(job.input), operation)
        try:
            result = engine.run(engine_job, io)
        except JobCancelled:
            return JobState.CANCEL, "Cancel", CANCELED_WHILE_RUNNING, {}
        except JobFailure as failure:
            return JobState.FAILED, failure.code, failure.message, {}
        except MemoryError:
            return JobState.FAILED, "ResourceExhausted", "The job needed more memory than the worker has.", {}
        except Exception as exc:  # an engine bug fails the job, not the worker
            log.exception("job %s: engine %s raised", job.job_id, job.tag)
            return JobState.FAILED, "InternalError", f"The {job.tag} engine failed: {type(exc).__name__}: {exc}", {}
        return JobState.SUCCESS, "Success", "", result



def _finished(job: Job, end: datetime, state: JobState, code: str, message: str, result: Tree) -> Job:
    """``job`` as ``JobQueue.finish`` records it (the finish statement in store/queue.sql), in the
    store's own forms: its times in whole microseconds, its result as JSON reads back."""
    progress = 100 if state == JobState.SUCCESS else None
    return replace(
        job,
        state=state,
        code=code,
        message=message,
        result=json.loads(dumps(result)),
        end_time=from_us(to_us(end)),
        progress=progress,
    )


def _output_of(job: Job) -> dict[str, object]:
    output = job.operation.get("Output")
    return dict(output) if isinstance(output, dict) else {}
