"""Test modes and reset in the store, on real SQLite and PostgreSQL: what the claim skips, what
advance moves, how many planned failures are used up, what a reset leaves."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.support.builders import BUCKET, OTHER_BUCKET, REGION, pic_job
from wanxiang.model import times
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.services.dev import DevService
from wanxiang.storage.local import LocalStorage
from wanxiang.store.queues import default_queue_id
from wanxiang.store.schema import metadata
from wanxiang.store.store import Store
from wanxiang.store.testmodes import GLOBAL, ModeSetting

PIC_QUEUE = default_queue_id(BUCKET, QueueFamily.PIC)
OTHER = OTHER_BUCKET


def fresh(store: Store, bucket: str = BUCKET) -> None:
    store.queues.ensure_bucket(bucket, REGION, times.now())


def make_job(bucket: str = BUCKET) -> Job:
    return pic_job(bucket, created=times.now())


def test_manual_mode_is_only_seen_by_a_dev_claim_and_a_queue_mode_beats_the_global_one(store: Store) -> None:
    fresh(store)
    fresh(store, OTHER)
    held, other = make_job(), make_job(bucket=OTHER)
    store.jobs.insert([held, other])
    store.test_modes.set(ModeSetting(GLOBAL, "manual"), times.now())
    store.test_modes.set(ModeSetting(default_queue_id(OTHER, QueueFamily.PIC), "instant"), times.now())

    claim = store.job_queue.claim(times.now(), 30, dev=True)
    assert claim is not None and claim.job.job_id == other.job_id  # its queue's own mode wins
    assert store.job_queue.claim(times.now(), 30, dev=True) is None
    assert store.job_queue.claim(times.now(), 30, ["PicProcess"], dev=True) is None
    production = store.job_queue.claim(times.now(), 30)  # not in dev mode: test modes do not exist
    assert production is not None and production.job.job_id == held.job_id


def test_advance_moves_submitted_to_held_running_then_to_one_worker(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    store.test_modes.set(ModeSetting(PIC_QUEUE, "manual"), times.now())

    assert store.job_queue.advance(job.job_id, times.now())
    running = store.jobs.get(job.job_id)
    assert running is not None and running.state == JobState.RUNNING and running.start_time is not None
    assert store.job_queue.claim_advanced(times.now(), 30) is None  # held: no worker may take it
    assert store.job_queue.release_expired(times.now()) == 0  # and no lease lapses

    assert store.job_queue.advance(job.job_id, times.now())
    claim = store.job_queue.claim_advanced(times.now(), 30)
    assert claim is not None and claim.job.job_id == job.job_id
    assert store.job_queue.claim_advanced(times.now(), 30) is None
    finished = store.job_queue.finish(job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {})
    assert finished is not None and finished.state == JobState.SUCCESS
    assert not store.job_queue.advance(job.job_id, times.now())


def test_fail_next_is_used_up_once_per_job_and_only_for_its_tag(store: Store) -> None:
    store.test_modes.set(ModeSetting(PIC_QUEUE, "fail-next", "PicProcess", 2, "Boom", "planned"), times.now())
    assert store.test_modes.take_failure(PIC_QUEUE, "Animation") is None
    assert store.test_modes.take_failure("another-queue", "PicProcess") is None
    assert [store.test_modes.take_failure(PIC_QUEUE, "PicProcess") for _ in range(3)] == [
        ("Boom", "planned"), ("Boom", "planned"), None]
    store.test_modes.set(ModeSetting(PIC_QUEUE, "normal"), times.now())
    assert store.test_modes.list() == []


def test_reset_empties_every_table_and_the_storage(store: Store, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "objects")
    dev = DevService(store, storage, REGION)
    fresh(store)
    store.jobs.insert([make_job(), make_job()])
    store.test_modes.set(ModeSetting(GLOBAL, "manual"), times.now())
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "a/b/c.txt", b"x")

    counts = dev.reset()

    assert (counts.buckets, counts.objects) == (1, 1) and counts.rows >= 3
    with store.engine.connect() as conn:
        assert {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in metadata.sorted_tables} == {
            t.name: 0 for t in metadata.sorted_tables}
    assert storage.list_buckets() == []
    fresh(store)  # the bucket, named again, gets its queues back
    assert store.queues.get(PIC_QUEUE) is not None


def test_reset_lets_a_running_job_finish_before_it_wipes(store: Store, tmp_path: Path) -> None:
    fresh(store)
    running, waiting = make_job(), make_job()
    store.jobs.insert([running])
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None
    store.jobs.insert([waiting])
    dev = DevService(store, LocalStorage(tmp_path / "objects"), REGION)
    resetting = threading.Thread(target=dev.reset, kwargs={"settle_seconds": 60})
    resetting.start()
    try:
        while store.jobs.get(waiting.job_id) is not None:  # nothing new may start...
            time.sleep(0.01)
        # ...but the running job's worker still records its outcome (its outputs land before the wipe).
        finished = store.job_queue.finish(claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS,
                                          "Success", "", {})
        assert finished is not None and finished.state == JobState.SUCCESS
    finally:
        resetting.join(60)
    assert store.jobs.get(running.job_id) is None
