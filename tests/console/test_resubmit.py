"""Resubmitting a Failed job (the console's bulk action): a new job, the link kept by the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from wanxiang.model import times
from wanxiang.model.errors import CIError
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


def test_a_failed_job_is_resubmitted_as_a_new_job_that_names_it(store: Store) -> None:
    jobs = JobService(store)
    old = jobs.submit(CTX, parse_submit_job(pic_request("x.png")))[0]
    with pytest.raises(CIError, match="only Failed jobs"):
        jobs.resubmit(CTX, old.job_id)
    finish(store, old, JobState.FAILED, timedelta(seconds=1))
    new = jobs.resubmit(CTX, old.job_id)
    assert new.job_id != old.job_id and new.state == JobState.SUBMITTED
    stored = store.jobs.get_many(BUCKET, [new.job_id, old.job_id])
    assert stored[0].resubmitted_from == old.job_id
    assert replace(stored[0], job_id="", creation_time=old.creation_time, resubmitted_from="") == replace(
        old, job_id="", state=JobState.SUBMITTED)
    assert stored[1].state == JobState.FAILED
    with pytest.raises(CIError, match="does not exist"):
        jobs.resubmit(CTX, "c0000")
