"""A worker claims its next job while the running one stores its output (one job of lookahead).
The job claimed ahead is Running in the store with this worker's lease: every rule that holds for
the running job holds for it too: a stopping or stuck worker hands it back, a cancel ends it
Cancel (without running it), a dead worker loses only its lease, and it counts towards its
queue's MaxConcurrent.

Gate jobs (tests/support/gate.py) whose output is ``held/...`` wait half way, after storing their
output, until the test opens the gate: the worker is then caught holding the next job."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support import gate
from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.storage.local import LocalStorage
from wanxiang.store.queue import CANCELED
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.xml import parse_request
from wanxiang.worker.deadlines import JobDeadlines
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

BUCKET = "ahead-1250000000"
REGION = "ap-guangzhou"
CTX = BucketContext(BUCKET, REGION)
LEASE = 0.6


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setenv(gate.GATE_ENV, str(folder))
    catalog.register(gate.SPEC)
    yield folder
    gate.open_gate()  # no engine thread is left waiting after the test
    catalog.unregister("Gate")


@pytest.fixture
def storage(tmp_path: Path, store: Store) -> LocalStorage:
    objects = LocalStorage(tmp_path / "objects")
    objects.put(BUCKET, "in/hello.txt", b"hello")
    store.queues.ensure_bucket(BUCKET, REGION, times.now())
    return objects


def submit(store: Store, out: str) -> str:
    body = (
        f"<Request><Tag>Gate</Tag><Input><Object>in/hello.txt</Object></Input>"
        f"<Operation><Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket>"
        f"<Object>{out}</Object></Output></Operation></Request>"
    ).encode()
    [job] = JobService(store).submit(CTX, parse_submit_job(parse_request(body)))
    return job.job_id


def state(store: Store, job_id: str) -> JobState:
    return store.jobs.get_many(BUCKET, [job_id])[0].state


def column(store: Store, job_id: str, name: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT {name} FROM jobs WHERE job_id = :id"), {"id": job_id}).scalar_one())


def wait_until(done: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)


def started(worker: Worker) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="worker-under-test")
    thread.start()
    return thread, stop


def holding_two(
    store: Store, storage: LocalStorage, deadlines: JobDeadlines | None = None
) -> tuple[Worker, str, str]:
    """A worker, and two jobs for it: one held half way, and the next one."""
    running, ahead = submit(store, "held/a.txt"), submit(store, "out/b.txt")
    worker = Worker(store, storage, PollWaiter(), lease_seconds=LEASE, deadlines=deadlines or JobDeadlines())
    return worker, running, ahead


def drain(store: Store, storage: LocalStorage, job_ids: list[str]) -> None:
    """Another worker runs whatever is left, until every job has ended."""
    other = Worker(store, storage, PollWaiter(), lease_seconds=LEASE)
    deadline = time.monotonic() + 60
    try:
        while not all(state(store, j).finished for j in job_ids):
            assert time.monotonic() < deadline, "the jobs left did not end"
            if not other.run_once():
                time.sleep(0.05)  # a lapsed lease is rescued at the next reap
    finally:
        other.close()


@pytest.mark.usefixtures("gated")
def test_a_worker_claims_the_next_job_while_the_running_one_stores_its_output(store: Store, storage: LocalStorage) -> None:
    worker, running, ahead = holding_two(store, storage)
    thread, stop = started(worker)
    try:
        wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead")
        assert state(store, running) == JobState.RUNNING
        assert gate.ran() == [running]  # claimed, not run: its engine waits for the running job
        gate.open_gate()
        wait_until(lambda: state(store, ahead) == JobState.SUCCESS, "the job claimed ahead ran")
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert [state(store, running), state(store, ahead)] == [JobState.SUCCESS, JobState.SUCCESS]
    assert gate.ran() == [running, ahead]
    assert [column(store, j, "attempts") for j in (running, ahead)] == [1, 1]


@pytest.mark.usefixtures("gated")
def test_a_stopping_worker_hands_back_its_prefetched_job(store: Store, storage: LocalStorage) -> None:
    """SIGTERM: the running job may finish within the grace period; the job claimed ahead goes
    back to its queue at once, for another worker, and its attempt is not counted."""
    worker, running, ahead = holding_two(store, storage)
    thread, stop = started(worker)
    wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead")
    stop.set()
    wait_until(lambda: state(store, ahead) == JobState.SUBMITTED, "the job claimed ahead is handed back")
    assert state(store, running) == JobState.RUNNING  # still in its grace period
    gate.open_gate()
    thread.join(30)
    assert not thread.is_alive()
    assert state(store, running) == JobState.SUCCESS
    assert (state(store, ahead), column(store, ahead, "attempts")) == (JobState.SUBMITTED, 0)
    assert gate.ran() == [running]
    drain(store, storage, [ahead])
    assert state(store, ahead) == JobState.SUCCESS


@pytest.mark.usefixtures("gated")
def test_a_worker_told_to_stop_at_once_hands_back_its_running_and_its_prefetched_job(
    store: Store, storage: LocalStorage
) -> None:
    """A second signal, or the end of the grace period (``hand_back``): both jobs go back to
    their queue uncounted, and the running job's late outcome is not recorded by this worker."""
    worker, running, ahead = holding_two(store, storage)
    thread, stop = started(worker)
    wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead")
    worker.hand_back()
    assert [state(store, running), state(store, ahead)] == [JobState.SUBMITTED, JobState.SUBMITTED]
    assert [column(store, j, "attempts") for j in (running, ahead)] == [0, 0]
    gate.open_gate()  # the engine ends now: its outcome is no longer this worker's to record
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert [state(store, running), state(store, ahead)] == [JobState.SUBMITTED, JobState.SUBMITTED]
    assert gate.ran() == [running]
    drain(store, storage, [running, ahead])
    assert [state(store, running), state(store, ahead)] == [JobState.SUCCESS, JobState.SUCCESS]


@pytest.mark.usefixtures("gated")
def test_a_prefetched_job_cancelled_before_it_runs_ends_cancel(store: Store, storage: LocalStorage) -> None:
    worker, running, ahead = holding_two(store, storage)
    thread, stop = started(worker)
    try:
        wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead")
        JobService(store).cancel(CTX, ahead)
        asked = column(store, ahead, "lease_expires_us")
        # A renewal after the request hears it (the lease is renewed every LEASE / 3 seconds).
        wait_until(lambda: column(store, ahead, "lease_expires_us") > asked, "the lease thread renews the job")
        gate.open_gate()
        wait_until(lambda: state(store, ahead) == JobState.CANCEL, "the cancelled job ends")
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    [done, cancelled] = store.jobs.get_many(BUCKET, [running, ahead])
    assert done.state == JobState.SUCCESS
    assert (cancelled.code, cancelled.message) == ("Cancel", CANCELED)
    assert gate.ran() == [running]  # it never ran
    assert storage.head(BUCKET, "out/b.txt") is None


@pytest.mark.usefixtures("gated")
def test_a_stuck_worker_hands_back_its_prefetched_job(store: Store, storage: LocalStorage) -> None:
    """The running job outlives its deadline: it ends JobTimeout, the worker stops to be
    replaced, and the job it had claimed ahead goes back to its queue, its deadline unspent."""
    worker, running, ahead = holding_two(store, storage, deadlines=JobDeadlines.parse("Gate=1"))
    thread, stop = started(worker)
    thread.join(30)  # a stuck worker stops by itself
    stop.set()
    assert not thread.is_alive() and worker.stuck
    [timed_out] = store.jobs.get_many(BUCKET, [running])
    assert (timed_out.state, timed_out.code) == (JobState.FAILED, "JobTimeout")
    assert (state(store, ahead), column(store, ahead, "attempts")) == (JobState.SUBMITTED, 0)
    gate.open_gate()
    drain(store, storage, [ahead])
    assert state(store, ahead) == JobState.SUCCESS


def test_prefetched_job_of_a_dead_worker_is_reclaimed_after_its_lease(
    store: Store, storage: LocalStorage, gated: Path, tmp_path: Path
) -> None:
    running, ahead = submit(store, "held/a.txt"), submit(store, "out/b.txt")
    url = store.engine.url.render_as_string(hide_password=False)
    schema = None
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(
        target=gate.worker_process, args=(url, schema, str(tmp_path / "objects"), str(gated), LEASE), daemon=True
    )
    process.start()
    try:
        wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead", timeout=60)
        assert state(store, running) == JobState.RUNNING
    finally:
        os.kill(process.pid or 0, signal.SIGKILL)
        process.join(30)
    assert process.exitcode == -signal.SIGKILL
    gate.open_gate()
    drain(store, storage, [running, ahead])
    assert [state(store, running), state(store, ahead)] == [JobState.SUCCESS, JobState.SUCCESS]
    assert [column(store, j, "attempts") for j in (running, ahead)] == [2, 2]  # the lost lease counts once
    assert gate.ran().count(ahead) == 1  # it ran once: the dead worker had not started it


@pytest.mark.usefixtures("gated")
def test_a_job_claimed_ahead_takes_a_slot_of_its_queues_max_concurrent(store: Store, storage: LocalStorage) -> None:
    """It holds the job, so it counts: at MaxConcurrent 2 a second worker finds the queue full
    while the first runs one job and holds the next."""
    queue_id = default_queue_id(BUCKET, catalog.family_of("Gate"))  # type: ignore[arg-type]
    store.queues.update(queue_id, times.now(), name=None, state=None, notify_config=None, max_concurrent=2)
    worker, running, ahead = holding_two(store, storage)
    third = submit(store, "out/c.txt")
    other = Worker(store, storage, PollWaiter(), lease_seconds=LEASE)
    thread, stop = started(worker)
    try:
        wait_until(lambda: state(store, ahead) == JobState.RUNNING, "the next job is claimed ahead")
        assert other.run_once() is False  # the queue is full
        assert state(store, third) == JobState.SUBMITTED
        gate.open_gate()
        wait_until(lambda: all(state(store, j) == JobState.SUCCESS for j in (running, ahead, third)), "all ran")
    finally:
        stop.set()
        thread.join(30)
        other.close()
    assert not thread.is_alive()
