"""The job transitions that happen outside a worker's claim loop, logged and counted in one place:
submitted (by the API, a batch walk or a workflow step) and canceled. A worker logs its own
(started, finished, handed back) in ``wanxiang.worker.loop``."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from wanxiang.model.job import Job, JobState
from wanxiang.ops import metrics
from wanxiang.ops.logs import event

log = logging.getLogger("wanxiang.jobs")


def submitted(jobs: Iterable[Job], via: str) -> None:
    for job in jobs:
        if job.state == JobState.SUBMITTED:
            metrics.JOBS_SUBMITTED.labels(job.tag).inc()
            event(log, logging.INFO, "job submitted", job_id=job.job_id, tag=job.tag, queue=job.queue_id,
                  bucket=job.bucket_id, via=via, input=job.input_object, job_level=job.job_level)


def canceled(bucket_id: str, job_id: str) -> None:
    event(log, logging.INFO, "job canceled", job_id=job_id, bucket=bucket_id)
