"""JobsDetail: the element tree of a job in responses, lists and TaskFinish callbacks."""

from __future__ import annotations

import json
from typing import Any

from wanxiang.model.job import Job, JobState
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree
from wanxiang.wire.xml import render


def jobs_detail(job: Job) -> Tree:
    """The JobsDetail tree exactly as the seeds show it: times in CI form, ``-`` until set."""
    failed = job.state == JobState.FAILED or job.state == JobState.CANCEL
    detail: Tree = {
        "Code": job.code if failed else "Success",
        "Message": job.message if failed else "",
        "JobId": job.job_id,
        "State": job.state.value,
        "CreationTime": format_time(job.creation_time),
        "StartTime": format_time(job.start_time),
        "EndTime": format_time(job.end_time),
        "QueueId": job.queue_id,
        "Tag": job.tag,
    }
    if job.progress is not None and job.state in (JobState.RUNNING, JobState.SUCCESS):
        detail["Progress"] = str(job.progress)
    detail["Input"] = {"BucketId": job.bucket_id, "Bucket": job.bucket_id, "Object": job.input_object, "Region": job.region}
    for key, value in job.input.items():
        if key not in detail["Input"]:
            detail["Input"][key] = value
    operation: Tree = dict(job.operation)
    operation.update(job.result)
    detail["Operation"] = operation
    if job.workflow:
        detail["Workflow"] = job.workflow
    return detail


def task_finish_payload(job: Job, fmt: str) -> tuple[str, str]:
    """The TaskFinish notification body and its Content-Type, in XML (default) or JSON."""
    detail = jobs_detail(job)
    if fmt.upper() == "JSON":
        body = {"EventName": "TaskFinish", "JobsDetail": _json_form(detail)}
        return json.dumps(body, ensure_ascii=False), "application/json"
    return render("Response", {"EventName": "TaskFinish", "JobsDetail": detail}).decode(), "application/xml"


def _json_form(value: Any) -> Any:
    """XML turned JSON as CI does it: scalars are strings, empty elements are left out."""
    if isinstance(value, dict):
        out = {k: _json_form(v) for k, v in value.items() if v not in ("", None, [], {})}
        return out
    if isinstance(value, list):
        return [_json_form(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
