"""The job store on real SQLite and PostgreSQL: claim order, pauses, leases, keyset pages."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

from wanxiang.model import times
from wanxiang.model.ids import new_id
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.store.jobs import JobFilter
from wanxiang.store.paging import PageWindow
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store

BUCKET = "store-1250000000"


def make_job(level: int = 0, bucket: str = BUCKET, key: str = "a.png") -> Job:
    return Job(
        job_id=new_id("c"),
        bucket_id=bucket,
        region="ap-guangzhou",
        tag="PicProcess",
        queue_id=default_queue_id(bucket, QueueFamily.PIC),
        state=JobState.SUBMITTED,
        job_level=level,
        input={"Object": key},
        operation={"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
        creation_time=times.now(),
    )


def fresh(store: Store, bucket: str = BUCKET) -> None:
    store.queues.ensure_bucket(bucket, "ap-guangzhou", times.now())


def test_claim_takes_higher_job_level_first_then_oldest(store: Store) -> None:
    fresh(store)
    low, high_old, high_new = make_job(0), make_job(2), make_job(2)
    for job in (low, high_old, high_new):
        store.jobs.insert([job])
    order = []
    for _ in range(3):
        claim = store.job_queue.claim(times.now(), 30)
        assert claim is not None
        order.append(claim.job.job_id)
    assert order == [high_old.job_id, high_new.job_id, low.job_id]
    assert store.job_queue.claim(times.now(), 30) is None


def test_paused_queue_is_not_claimed_until_active(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    store.queues.update(job.queue_id, times.now(), name=None, state="Paused", notify_config=None)
    assert store.job_queue.claim(times.now(), 30) is None
    store.queues.update(job.queue_id, times.now(), name=None, state="Active", notify_config=None)
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None and claim.job.job_id == job.job_id


def test_lapsed_lease_is_claimed_again_and_the_old_owner_cannot_finish(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    first = store.job_queue.claim(times.now(), 1)
    assert first is not None
    later = times.now() + timedelta(seconds=5)
    assert store.job_queue.renew(job.job_id, first.lease_token, times.now(), 1)
    assert store.job_queue.release_expired(later) == 1
    second = store.job_queue.claim(later, 30)
    assert second is not None and second.job.job_id == job.job_id
    assert not store.job_queue.renew(job.job_id, first.lease_token, later, 30)
    assert store.job_queue.finish(job.job_id, first.lease_token, later, JobState.FAILED, "X", "stale", {}) is None
    done = store.job_queue.finish(job.job_id, second.lease_token, later, JobState.SUCCESS, "Success", "", {"R": "1"})
    assert done is not None and done.state == JobState.SUCCESS and done.result == {"R": "1"}
    assert store.jobs.get(job.job_id).state == JobState.SUCCESS  # type: ignore[union-attr]


def test_a_job_whose_workers_keep_dying_fails_instead_of_looping(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    moment = times.now()
    for _ in range(5):
        assert store.job_queue.claim(moment, 1) is not None
        moment += timedelta(seconds=5)
        store.job_queue.release_expired(moment)
    final = store.jobs.get(job.job_id)
    assert final is not None and final.state == JobState.FAILED and final.code == "WorkerLost"


def test_keyset_pages_are_stable_when_jobs_arrive_between_pages(store: Store) -> None:
    fresh(store)
    jobs = [make_job() for _ in range(7)]
    for job in jobs:
        store.jobs.insert([job])
    page1, token = store.jobs.list(BUCKET, JobFilter(window=PageWindow(size=3)))
    store.jobs.insert([make_job(), make_job()])
    page2, token2 = store.jobs.list(BUCKET, JobFilter(window=PageWindow(size=3, next_token=token)))
    page3, token3 = store.jobs.list(BUCKET, JobFilter(window=PageWindow(size=3, next_token=token2)))
    seen = [j.job_id for j in page1 + page2 + page3]
    assert seen == [j.job_id for j in reversed(jobs)]
    assert token3 == ""


def test_filters_by_input_object_and_state(store: Store) -> None:
    fresh(store)
    a, b = make_job(key="a.png"), make_job(key="b.png")
    store.jobs.insert([a, b])
    assert [j.job_id for j in store.jobs.list(BUCKET, JobFilter(input_object="b.png"))[0]] == [b.job_id]
    store.jobs.cancel(BUCKET, a.job_id, times.now())
    assert [j.job_id for j in store.jobs.list(BUCKET, JobFilter(window=PageWindow(states=["Cancel"])))[0]] == [a.job_id]
    assert store.jobs.list("other-1250000000", JobFilter())[0] == []


def _claim_all(url: str, schema: str | None, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store.open(url, schema=schema, run_migrations=False)
    got = []
    while True:
        claim = store.job_queue.claim(times.now(), 30)
        if claim is None:
            break
        got.append(claim.job.job_id)
    out.put(got)
    store.close()


def test_two_processes_claiming_at_once_never_take_the_same_job(store: Store) -> None:
    fresh(store)
    jobs = [make_job(level=i % 3) for i in range(60)]
    store.jobs.insert(jobs)
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(url, _schema_of(store), out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    claimed = results[0] + results[1]
    assert sorted(claimed) == sorted(j.job_id for j in jobs)
    assert len(set(claimed)) == len(claimed)


def _schema_of(store: Store) -> str | None:
    if store.dialect != "postgresql":
        return None
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT current_schema()").scalar())
