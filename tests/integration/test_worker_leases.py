"""A worker keeps the lease of every job it runs alive for as long as the job runs, one job after
another (its lease thread lives as long as the worker), so no other worker takes a running job."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from tests.integration.test_job_deadlines import BUCKET, REGION, submit
from tests.support.echo.spec import SPEC as ECHO
from wanxiang.engines import catalog
from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.model.tree import Tree
from wanxiang.services.jobs import JobService
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.store import Store
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

LEASE = 0.6


class SlowEngine:
    """Runs four lease periods, long enough for an unrenewed lease to lapse twice over."""

    tag = "Slow"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        threading.Event().wait(LEASE * 4)
        io.write_object(f"out/{job.job_id}.txt", b"done", "text/plain")
        return {}


@pytest.fixture
def slow_tag() -> Iterator[None]:
    catalog.register(dataclasses.replace(ECHO, tag="Slow", engine=SlowEngine))
    yield
    catalog.unregister("Slow")


@pytest.mark.usefixtures("slow_tag")
def test_jobs_longer_than_the_lease_are_never_handed_to_a_second_worker(store: Store) -> None:
    storage = MemoryStorage()
    storage.put(BUCKET, "in/hello.txt", b"hello")
    store.queues.ensure_bucket(BUCKET, REGION, times.now())
    first = Worker(store, storage, PollWaiter(), lease_seconds=LEASE)
    other = Worker(store, storage, PollWaiter(), lease_seconds=LEASE)
    job_ids: list[str] = []
    claims_seen_by_other: list[bool] = []
    for n in range(2):  # the second job is renewed by the same lease thread as the first
        job_ids.append(submit(JobService(store), "Slow", f"out/{n}.txt"))
        runner = threading.Thread(target=first.run_once)
        runner.start()
        while store.jobs.get_many(BUCKET, job_ids[-1:])[0].state != JobState.RUNNING:  # first claims it
            runner.join(0.01)
        while runner.is_alive():  # meanwhile the other worker reaps lapsed leases and claims
            claims_seen_by_other.append(other.run_once())
            runner.join(LEASE / 4)
    first.close()
    other.close()

    assert claims_seen_by_other and not any(claims_seen_by_other)
    jobs = store.jobs.get_many(BUCKET, job_ids)
    assert [job.state for job in jobs] == [JobState.SUCCESS, JobState.SUCCESS]
