"""Queue limits and cancelling running jobs: the store's contract on SQLite and PostgreSQL.

MaxConcurrent caps the Running jobs of a queue across every claimer; MaxSize caps its Submitted
jobs at submit. Only limits a user set are enforced.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.support.builders import BUCKET, REGION, pic_job
from wanxiang.model import times
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.store.jobs import QueueFull
from wanxiang.store.queue import Lease
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store

PIC = default_queue_id(BUCKET, QueueFamily.PIC)
MEDIA = default_queue_id(BUCKET, QueueFamily.MEDIA)


def make_job() -> Job:
    return pic_job(created=times.now())


def fresh(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, times.now())


def schema_of(store: Store) -> str | None:
    if store.dialect != "postgresql":
        return None
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT current_schema()").scalar())


def cap(store: Store, queue_id: str, *, concurrent: int | None = None, size: int | None = None) -> None:
    store.queues.update(
        queue_id, times.now(), name=None, state=None, notify_config=None, max_concurrent=concurrent, max_size=size
    )


def claim_all(store: Store) -> list[str]:
    claimed = []
    while (claim := store.job_queue.claim(times.now(), 30)) is not None:
        claimed.append(claim.job.job_id)
    return claimed


def test_the_default_limits_are_reported_but_do_not_throttle(store: Store) -> None:
    fresh(store)
    jobs = [make_job() for _ in range(12)]
    store.jobs.insert(jobs, bounded=True)
    queue = store.queues.get(PIC)
    assert queue is not None and (queue.max_concurrent, queue.max_size) == (10, 10000)
    assert queue.concurrent_cap is None and queue.size_cap is None
    assert len(claim_all(store)) == 12


def test_max_concurrent_caps_the_running_jobs_of_its_queue_only(store: Store) -> None:
    fresh(store)
    cap(store, PIC, concurrent=2)
    pic_jobs = [make_job() for _ in range(5)]
    other = [make_job() for _ in range(2)]
    other = [replace(job, queue_id=MEDIA) for job in other]
    store.jobs.insert(pic_jobs + other)
    first = claim_all(store)
    assert sorted(first) == sorted([pic_jobs[0].job_id, pic_jobs[1].job_id] + [j.job_id for j in other])
    queue = store.queues.get(PIC)
    assert queue is not None and (queue.max_concurrent, queue.concurrent_cap) == (2, 2)
    running = store.jobs.get(pic_jobs[0].job_id)
    assert running is not None and running.state == JobState.RUNNING
    # Finishing one frees one slot, for the next job in order.
    lease = _token(store, pic_jobs[0].job_id)
    assert store.job_queue.finish(pic_jobs[0].job_id, lease, times.now(), JobState.SUCCESS, "Success", "", {})
    assert claim_all(store) == [pic_jobs[2].job_id]


def test_capping_a_queue_counts_the_jobs_already_running(store: Store) -> None:
    fresh(store)
    jobs = [make_job() for _ in range(5)]
    store.jobs.insert(jobs)
    for _ in range(3):
        assert store.job_queue.claim(times.now(), 30) is not None
    cap(store, PIC, concurrent=2)
    assert store.job_queue.claim(times.now(), 30) is None  # 3 running, cap 2
    for job in jobs[:2]:
        store.job_queue.finish(job.job_id, _token(store, job.job_id), times.now(), JobState.SUCCESS, "Success", "", {})
    assert claim_all(store) == [jobs[3].job_id]


def test_a_job_whose_worker_vanished_gives_its_slot_back(store: Store) -> None:
    fresh(store)
    cap(store, PIC, concurrent=1)
    first, second = make_job(), make_job()
    store.jobs.insert([first, second])
    assert store.job_queue.claim(times.now(), 1) is not None
    assert store.job_queue.claim(times.now(), 1) is None
    later = times.now() + timedelta(seconds=5)
    assert store.job_queue.release_expired(later) == 1
    again = store.job_queue.claim(later, 30)
    assert again is not None and again.job.job_id == first.job_id
    assert store.job_queue.claim(later, 30) is None


def _claim_and_watch(url: str, schema: str | None, queue_id: str, total: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Claim, look at how many jobs of the queue are Running, finish; until all are done."""
    store = Store.open(url, schema=schema, run_migrations=False)
    most, ran = 0, 0
    count_running = text("SELECT count(*) FROM jobs WHERE queue_id = :q AND state = 'Running'")
    count_done = text("SELECT count(*) FROM jobs WHERE queue_id = :q AND state = 'Success'")
    while True:
        claim = store.job_queue.claim(times.now(), 30)
        with store.engine.connect() as conn:
            if claim is None:
                if conn.execute(count_done, {"q": queue_id}).scalar_one() == total:
                    break
                continue
            most = max(most, int(conn.execute(count_running, {"q": queue_id}).scalar_one()))
        store.job_queue.finish(claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {})
        ran += 1
    out.put((most, ran))
    store.close()


def test_two_processes_claiming_at_once_never_run_more_than_the_cap(store: Store) -> None:
    fresh(store)
    cap(store, PIC, concurrent=1)
    jobs = [make_job() for _ in range(40)]
    store.jobs.insert(jobs)
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_and_watch, args=(url, schema_of(store), PIC, 40, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert max(most for most, _ in results) == 1
    assert sum(ran for _, ran in results) == 40
    queue = store.queues.get(PIC)
    assert queue is not None
    with store.engine.connect() as conn:
        taken = text("SELECT count(*) FROM queue_slots WHERE queue_id = :q AND job_id IS NOT NULL")
        assert conn.execute(taken, {"q": PIC}).scalar_one() == 0  # every slot given back


def test_max_size_refuses_a_submit_past_the_cap_and_only_then(store: Store) -> None:
    fresh(store)
    store.jobs.insert([make_job() for _ in range(3)], bounded=True)  # no cap yet
    cap(store, PIC, size=4)
    store.jobs.insert([make_job()], bounded=True)
    with pytest.raises(QueueFull) as refused:
        store.jobs.insert([make_job()], bounded=True)
    assert (refused.value.queue_id, refused.value.cap) == (PIC, 4)
    with pytest.raises(QueueFull):
        store.jobs.insert([make_job(), make_job()], bounded=True)
    assert len(store.jobs.list(BUCKET, _all())[0]) == 4  # nothing of a refused submit is stored
    assert store.job_queue.claim(times.now(), 30) is not None  # one starts: room for one
    store.jobs.insert([make_job()], bounded=True)


def test_a_running_job_asked_to_cancel_hears_it_at_its_next_renewal(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None
    assert store.job_queue.renew(job.job_id, claim.lease_token, times.now(), 30) is Lease.HELD
    outcome = store.jobs.cancel(BUCKET, job.job_id, times.now())
    assert outcome.requested and not outcome.canceled and outcome.state == JobState.RUNNING
    assert store.jobs.get(job.job_id).state == JobState.RUNNING  # type: ignore[union-attr]
    assert store.job_queue.renew(job.job_id, claim.lease_token, times.now(), 30) is Lease.CANCEL_REQUESTED
    done = store.job_queue.finish(job.job_id, claim.lease_token, times.now(), JobState.CANCEL, "Cancel", "stopped", {})
    assert done is not None and done.state == JobState.CANCEL
    again = store.jobs.cancel(BUCKET, job.job_id, times.now())
    assert not again.canceled and again.state == JobState.CANCEL


def test_a_cancelled_job_whose_worker_vanished_ends_cancel_not_queued_again(store: Store) -> None:
    fresh(store)
    cap(store, PIC, concurrent=1)
    job = make_job()
    store.jobs.insert([job])
    assert store.job_queue.claim(times.now(), 1) is not None
    store.jobs.cancel(BUCKET, job.job_id, times.now())
    assert store.job_queue.release_expired(times.now() + timedelta(seconds=5)) == 1
    final = store.jobs.get(job.job_id)
    assert final is not None and final.state == JobState.CANCEL
    store.jobs.insert([make_job()])
    assert store.job_queue.claim(times.now(), 30) is not None  # its slot was given back


def _token(store: Store, job_id: str) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(text("SELECT lease_owner FROM jobs WHERE job_id = :j"), {"j": job_id}).scalar_one())


def _all():  # type: ignore[no-untyped-def]
    from wanxiang.store.jobs import JobFilter

    return JobFilter()


def test_a_job_that_finishes_before_hearing_its_cancel_keeps_its_result(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None
    assert store.jobs.cancel(BUCKET, job.job_id, times.now()).requested  # asked while Running
    done = store.job_queue.finish(job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {"R": "1"})
    assert done is not None and done.state == JobState.SUCCESS and done.result == {"R": "1"}
    late = store.jobs.cancel(BUCKET, job.job_id, times.now())
    assert not late.canceled and not late.requested and late.state == JobState.SUCCESS
