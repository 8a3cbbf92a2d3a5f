"""Row <-> model conversion: microsecond integers and JSON bodies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from wanxiang.model.job import Job, JobState
from wanxiang.model.queue import Queue, QueueState


def to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def from_us(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, UTC)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def job_body(job: Job) -> str:
    return dumps(
        {
            "input": job.input,
            "operation": job.operation,
            "callback": job.callback,
            "workflow": job.workflow,
            "params": job.params,
            **({"resubmitted_from": job.resubmitted_from} if job.resubmitted_from else {}),
        }
    )


def row_to_job(row: Row[Any]) -> Job:
    body = json.loads(row.body)
    created = from_us(row.create_us)
    assert created is not None
    return Job(
        job_id=row.job_id,
        bucket_id=row.bucket_id,
        region=row.region,
        tag=row.tag,
        queue_id=row.queue_id,
        state=JobState(row.state),
        job_level=row.job_level,
        input=body.get("input") or {},
        operation=body.get("operation") or {},
        creation_time=created,
        start_time=from_us(row.start_us),
        end_time=from_us(row.end_us),
        code=row.code,
        message=row.message,
        progress=row.progress,
        callback=body.get("callback") or {},
        workflow_id=row.workflow_id,
        inventory_trigger_job_id=row.inventory_trigger_job_id,
        workflow=body.get("workflow"),
        result=json.loads(row.result or "{}"),
        params=body.get("params") or {},
        resubmitted_from=body.get("resubmitted_from", ""),
    )


def row_to_queue(row: Row[Any]) -> Queue:
    created, updated = from_us(row.create_us), from_us(row.update_us)
    assert created is not None and updated is not None
    return Queue(
        queue_id=row.queue_id,
        bucket_id=row.bucket_id,
        family=row.family,
        name=row.name,
        state=QueueState(row.state),
        category=row.category,
        create_time=created,
        update_time=updated,
        notify_config=json.loads(row.notify_config or "{}"),
        max_size=row.max_size,
        max_concurrent=row.max_concurrent,
        size_cap=row.size_cap,
        concurrent_cap=row.concurrent_cap,
    )


# NextToken is an opaque keyset cursor: the seq of the last row served, in a form that
# discourages clients from doing arithmetic on it.
def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    padded = token + "=" * (-len(token) % 4)
    raw = base64.urlsafe_b64decode(padded.encode()).decode()
    if not raw.startswith("s"):
        raise ValueError("bad token")
    return int(raw[1:])
