"""One worker: claim a job, keep its lease alive, run its engine, record the outcome.

A worker that dies mid-job loses only its lease: once the lease lapses, any worker's
``release_expired`` gives the job back to the queue, and the dead worker's token can no longer
finish it.

Every job has a deadline (:mod:`wanxiang.worker.deadlines`). The engine runs in a thread the
worker waits for until then; past it, the job ends ``Failed`` with Code ``JobTimeout``, its JobIO
refuses further writes, and the worker stops (``stuck`` is set) so that its process is replaced:
a thread cannot be killed, a process can. The lease is renewed only until the deadline, so even
an engine that blocks the whole process loses the job to another worker instead of holding it.

One job of lookahead: when the running job's engine begins storing its output, the worker claims
the next job (``prefetch``), and starts it on the engine thread as soon as the engine returns,
before it records the first job's outcome, so the engine does not wait for the store between two
jobs. A job claimed ahead waits at most for one output to be stored; it is Running in the store,
with its lease renewed and, in a queue with MaxConcurrent, a slot of its own (it holds the job, so
it counts towards the cap). Its deadline counts from when it starts. A cancel seen for it before
it starts ends it ``Cancel`` without running; a worker that stops, or is stuck, hands it back; a
worker that dies loses its lease, as for the running job.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import Tree
from wanxiang.ops import metrics
from wanxiang.ops.logs import event
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.codec import dumps, from_us, to_us
from wanxiang.store.queue import CANCELED, Claim, Lease
from wanxiang.store.store import Store
from wanxiang.worker.deadlines import JobDeadlines
from wanxiang.worker.engine_run import EngineThread, Outcome, run_engine
from wanxiang.worker.jobio import StorageJobIO
from wanxiang.worker.leases import HeldLease, LeaseKeeper
from wanxiang.worker.notify import task_finish_callbacks
from wanxiang.worker.wake import Waiter

log = logging.getLogger("wanxiang.worker")


@dataclass(eq=False)
class _Running:
    """A job whose engine was started: what waiting for it and recording it need."""

    held: HeldLease
    io: StorageJobIO
    future: concurrent.futures.Future[Outcome]
    started: float  # monotonic
    seconds: float  # its deadline, counted from ``started``
    output_begun: threading.Event  # set by its JobIO when the engine starts storing its output


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
    # Claim the next job while the running one stores its output (see the module's docstring).
    prefetch: bool = True
    _last_reap: float = 0.0
    _last_side: float = 0.0
    _side_busy: bool = False
    # Every job this worker holds (running, finishing, or claimed ahead), by job id, and the lock
    # that makes claiming, finishing and handing back exclusive.
    _held: dict[str, HeldLease] = field(default_factory=dict)
    _holding: threading.Lock = field(default_factory=threading.Lock)
    _prefetched: HeldLease | None = None  # claimed ahead, not started
    _started: _Running | None = None  # started by the previous turn, to be waited for by the next
    _handed_back: bool = False  # the worker is going: it keeps no job any more
    _stop: threading.Event | None = None
    _wake: threading.Event = field(default_factory=threading.Event)  # an engine ended or began its output
    _busy: bool = False
    _lease_keeper: LeaseKeeper | None = None
    _engine: EngineThread | None = None

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        metrics.WORKERS.labels("idle").inc()
        try:
            self._loop(stop)
        finally:
            self._set_busy(False)
            metrics.WORKERS.labels("idle").dec()
            self.close()

    def _loop(self, stop: threading.Event) -> None:
        # A job already started keeps the loop turning until it is recorded, even once told to stop.
        while self._started is not None or (not stop.is_set() and not self.stuck):
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
        """Give back the job claimed ahead, if any, then stop the lease thread and the engine
        thread (a stuck engine's thread is left behind)."""
        self._give_back_prefetched()
        if self._lease_keeper is not None:
            self._lease_keeper.close()
            self._lease_keeper = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def _leases(self) -> LeaseKeeper:
        if self._lease_keeper is None:
            self._lease_keeper = LeaseKeeper(self._renew, self.lease_seconds / 3, self.worker_id)
        return self._lease_keeper

    def _renew(self, held: HeldLease) -> Lease:
        """Extend the lease of a job in hand; what the renewal found (held, lost, cancel asked)."""
        claim = held.claim
        return self.store.job_queue.renew(
            claim.job.job_id, claim.lease_token, times.now(), self.lease_seconds, held.progress
        )

    def run_once(self) -> bool:
        """Run one job until its outcome is recorded; False when there was nothing to do.

        The next job may be claimed while this one stores its output, and started on the engine
        thread as soon as this one's engine returns, before this one's outcome is recorded: then
        it is running when this returns, and the next call waits for it."""
        running, self._started = self._started, None
        did_side_work = self._housekeeping()
        if running is None:
            held = self._take_prefetched() or self._claim()
            if held is None:
                self._set_busy(False)
                return did_side_work
            self.waiter.reset()  # at once, not after the job: a doorbell it woke to is passed on now
            running = self._start(held)
            if running is None:  # given back meanwhile, or cancelled before it ran
                return True
        self._set_busy(True)
        self._complete(running)
        if self._started is None:
            self._set_busy(False)
        return True

    def _housekeeping(self) -> bool:
        """Rescue lapsed leases and run the side tasks when due. While a job claimed ahead runs,
        this happens beside its engine, not between two jobs."""
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
        return did_side_work

    def _claim(self, renew_until: float = math.inf) -> HeldLease | None:
        """Claim a job and hold its lease. Under the hand-back lock: a worker handing its jobs back
        waits for a claim in flight, and takes no new one after."""
        with self._holding:
            if self._handed_back:
                return None
            claim = self.store.job_queue.claim(times.now(), self.lease_seconds, dev=self.dev)
            if claim is None and self.dev:
                claim = self.store.job_queue.claim_advanced(times.now(), self.lease_seconds)
            if claim is None:
                return None
            held = HeldLease(claim, renew_until)
            self._held[claim.job.job_id] = held
        self._leases().hold(held)
        return held

    def _prefetch(self, running: _Running) -> None:
        """Claim the next job while ``running`` stores its output. It holds its lease (renewed by
        the lease thread until ``running``'s deadline has passed by a lease: a worker stuck past
        that deadline hands it back as it stops) and, in a queue with MaxConcurrent, its slot."""
        if not self.prefetch or self._prefetched is not None or self.stuck or self._stopping():
            return
        try:
            self._prefetched = self._claim(running.started + running.seconds + self.lease_seconds)
        except Exception:  # a database hiccup: the next job is claimed after this one, as usual
            log.exception("worker %s: claiming ahead failed", self.worker_id)

    def _take_prefetched(self) -> HeldLease | None:
        """The job claimed ahead, ready to start; None when there is none, or when it ended
        without running (a user cancelled it meanwhile) or its lease was lost."""
        held, self._prefetched = self._prefetched, None
        if held is None:
            return None
        if held.lost:  # this process stalled past the lease: another worker may run it now
            self._leases().release(held)
            with self._holding:
                self._held.pop(held.claim.job.job_id, None)
            return None
        if held.cancelled.is_set():
            self._leases().release(held)
            self._record(held, (JobState.CANCEL, "Cancel", CANCELED, {}), None)
            return None
        return held

    def _give_back_prefetched(self) -> None:
        """A worker that stops, or is stuck, gives the job it claimed ahead back to its queue."""
        held, self._prefetched = self._prefetched, None
        if held is None:
            return
        self._leases().release(held)
        if held.cancelled.is_set():  # not handed back (the queue would run it): it ends now
            self._record(held, (JobState.CANCEL, "Cancel", CANCELED, {}), None)
            return
        with self._holding:
            if self._held.pop(held.claim.job.job_id, None) is held:
                self._give_back(held.claim)

    def hand_back(self) -> None:
        """Give every job this worker holds (the running one, one claimed ahead) back to its queue
        now: the worker is stopping before they end. Their outcomes, if an engine still ends, are
        then not recorded by this worker, and it claims nothing more."""
        with self._holding:
            self._handed_back = True
            held, self._held = list(self._held.values()), {}
            for one in held:
                self._give_back(one.claim)

    def _give_back(self, claim: Claim) -> None:
        if self.store.job_queue.hand_back(claim.job.job_id, claim.lease_token):
            metrics.JOBS_RELEASED.labels("handed_back").inc()
            event(log, logging.INFO, "job handed back", job_id=claim.job.job_id, tag=claim.job.tag,
                  worker=self.worker_id)

    def _stopping(self) -> bool:
        return self._handed_back or (self._stop is not None and self._stop.is_set())

    def _start(self, held: HeldLease) -> _Running | None:
        """Start ``held``'s job on the engine thread; its deadline counts from now."""
        claim, job = held.claim, held.claim.job
        with self._holding:
            if self._held.get(job.job_id) is not held:  # handed back meanwhile
                return None
        started = time.monotonic()
        seconds = self.deadlines.seconds_for(job.tag, job.queue_id)
        held.renew_until = started + seconds
        output_begun = threading.Event()

        def begin_output() -> None:  # in the engine thread: wake the worker to claim ahead
            output_begun.set()
            self._wake.set()

        io = StorageJobIO(
            self.storage, job.bucket_id, job.region, job.input_object, _output_of(job),
            held.report_progress, held.cancelled, on_output=begin_output,
        )
        if self._engine is None:  # one engine thread for the worker's life, not one per job
            self._engine = EngineThread(f"engine-{self.worker_id}")
        future = self._engine.submit(lambda: self._execute(job, io))
        future.add_done_callback(lambda _: self._wake.set())
        wait = (job.start_time - job.creation_time).total_seconds() if job.start_time and job.creation_time else None
        if wait is not None:
            metrics.QUEUE_WAIT.labels(job.tag).observe(max(0.0, wait))
        event(log, logging.INFO, "job started", job_id=job.job_id, tag=job.tag, queue=job.queue_id,
              bucket=job.bucket_id, worker=self.worker_id, attempt=claim.attempt,
              queue_wait_s=None if wait is None else round(wait, 3))
        return _Running(held, io, future, started, seconds, output_begun)

    def _complete(self, running: _Running) -> None:
        """Wait for ``running``'s engine, start the job claimed ahead, then record ``running``."""
        try:
            outcome = self._wait(running)
            if not self.stuck and not self._stopping():
                # Started first: the engine does not wait for this job's cleanup and record.
                held = self._take_prefetched()
                self._started = self._start(held) if held is not None else None
            if outcome[0] == JobState.CANCEL:
                running.io.discard_outputs()
        finally:
            self._leases().release(running.held)
            running.io.close()
        self._record(running.held, outcome, running.started)

    def _wait(self, running: _Running) -> Outcome:
        """The engine's outcome, or JobTimeout once its deadline passed. Meanwhile: claim the next
        job when this one begins its output, give it back if the worker is told to stop, beat."""
        job, future = running.held.claim.job, running.future
        deadline = running.started + running.seconds
        while True:
            self._wake.clear()
            if running.output_begun.is_set() and self._prefetched is None:
                self._prefetch(running)
            if self._stopping() and self._prefetched is not None:
                self._give_back_prefetched()
            if future.done() or (left := deadline - time.monotonic()) <= 0:
                break
            self._wake.wait(min(1.0, left))
            self._beat()
        try:
            return future.result(timeout=0)
        except concurrent.futures.TimeoutError:
            pass
        except BaseException:  # it raised past _execute's net (SystemExit and the like)
            return JobState.FAILED, "InternalError", f"The {job.tag} engine stopped without a result.", {}
        running.io.abandon()
        if self._engine is not None:
            self._engine.close()  # its thread is stuck in the engine; this worker is done
            self._engine = None
        self.stuck = True
        log.error(
            "job %s: the %s engine ran past its %g s deadline; failing the job and replacing this worker",
            job.job_id, job.tag, running.seconds,
        )
        return JobState.FAILED, "JobTimeout", f"The job ran longer than its {running.seconds:g} s deadline ({job.tag}).", {}

    def _record(self, held: HeldLease, outcome: Outcome, started: float | None) -> None:
        """Record a job's outcome (``started`` None: it ended without running), if it is still
        this worker's to record."""
        state, code, message, result = outcome
        claim, job = held.claim, held.claim.job
        if held.lost:
            log.warning("job %s: lease lost while running; its new owner records the outcome", job.job_id)
        # Read at finish, not cached: a NotifyConfig change applies to the very next job.
        queue = self.store.queues.get(job.queue_id)
        end = times.now()
        # The notifications are rendered here, from the job as finish will record it, so that the
        # store only writes them (in the same transaction as the outcome).
        callbacks = task_finish_callbacks(_finished(job, end, state, code, message, result), queue)
        with self._holding:
            if self._held.get(job.job_id) is not held:  # handed back meanwhile: no longer ours to finish
                return
            del self._held[job.job_id]
            finished = self.store.job_queue.finish(
                job.job_id, claim.lease_token, end, state, code, message, result, callbacks=callbacks
            )
        duration = None if started is None else time.monotonic() - started
        if finished is None:
            event(log, logging.WARNING, "job outcome not recorded: its lease was taken over", job_id=job.job_id,
                  tag=job.tag, worker=self.worker_id, state=str(state), code=code)
            return
        metrics.JOBS_FINISHED.labels(job.tag, str(state), code).inc()
        if duration is not None:
            metrics.JOB_SECONDS.labels(job.tag).observe(duration)
        event(log, logging.INFO if state == JobState.SUCCESS else logging.WARNING, "job finished",
              job_id=job.job_id, tag=job.tag, worker=self.worker_id, state=str(state), code=code,
              job_message=message[:300] if state != JobState.SUCCESS else None,
              duration_s=None if duration is None else round(duration, 3), callbacks=len(callbacks) or None)
        if self.on_finished is not None:
            self.on_finished(finished)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            metrics.WORKERS.labels("busy" if busy else "idle").inc()
            metrics.WORKERS.labels("idle" if busy else "busy").dec()

    def _beat(self) -> None:
        if self.pulse is not None:
            self.pulse()

    def _execute(self, job: Job, io: StorageJobIO) -> Outcome:
        planned = self.store.test_modes.take_failure(job.queue_id, job.tag) if self.dev else None
        if planned is not None:  # the fail-next test mode
            return JobState.FAILED, planned[0], planned[1], {}
        return run_engine(job, io)


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
