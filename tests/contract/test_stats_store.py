"""The console's overview counts (store/stats.py) on SQLite and PostgreSQL: bounded by the work in
flight and by the last hour."""

from __future__ import annotations

from datetime import timedelta

from wanxiang.model import times
from wanxiang.model.job import Job, JobState
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job

BUCKET = "stats-1250000000"
CTX = BucketContext(BUCKET, "ap-guangzhou")


def pic_request(key: str) -> dict[str, object]:
    return {"Tag": "PicProcess", "Input": {"Object": key},
            "Operation": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
                          "Output": {"Bucket": BUCKET, "Region": "ap-guangzhou", "Object": f"out/{key}"}}}


def finish(store: Store, job: Job, state: JobState, ago: timedelta) -> None:
    claim = store.job_queue.claim(times.now() - ago, 30)
    assert claim is not None and claim.job.job_id == job.job_id
    store.job_queue.finish(job.job_id, claim.lease_token, times.now() - ago, state, "Boom" if state == JobState.FAILED else "Success", "", {})


def test_overview_counts_work_in_flight_and_the_hour_by_slot(store: Store) -> None:
    jobs = JobService(store)
    done = jobs.submit(CTX, parse_submit_job(pic_request("a.png")))[0]
    finish(store, done, JobState.SUCCESS, timedelta(minutes=2))
    failed = jobs.submit(CTX, parse_submit_job(pic_request("b.png")))[0]
    finish(store, failed, JobState.FAILED, timedelta(minutes=22))
    jobs.submit(CTX, parse_submit_job(pic_request("c.png")))
    jobs.submit(CTX, parse_submit_job(pic_request("d.png")))

    counts, capped = store.stats.in_flight()
    assert {(c.tag, c.state): c.count for c in counts if c.bucket_id == BUCKET} == {("PicProcess", "Submitted"): 2}
    assert not capped
    one, capped = store.stats.in_flight(cap=1)
    assert [(c.state, c.count) for c in one] == [("Submitted", 1)] and capped
    hour = {c.state: c.count for c in store.stats.created_since(BUCKET, times.now() - timedelta(hours=1))}
    assert hour == {"Success": 1, "Failed": 1, "Submitted": 2}
    slots = store.stats.finished_by_slot(BUCKET, times.now(), 12, timedelta(minutes=5))
    assert sorted((s.slot, s.state, s.count) for s in slots) == [(7, "Failed", 1), (11, "Success", 1)]
    assert store.stats.buckets() == [BUCKET]
    assert store.stats.outbox_backlog() == 0
    info = store.stats.claim_info(done.job_id)
    assert info is not None and info.attempts == 1
