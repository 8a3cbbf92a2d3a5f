"""Which TaskFinish notifications a finished job owes: the job's CallBack wins over the queue's
NotifyConfig; a CallBack of ``no`` silences the queue's."""

from __future__ import annotations

from wanxiang.model.job import Job
from wanxiang.model.queue import Queue
from wanxiang.store.jobs import PendingCallback
from wanxiang.wire.jobs import task_finish_payload


def task_finish_callbacks(job: Job, queue: Queue | None) -> list[PendingCallback]:
    own_url = str(job.callback.get("Url", ""))
    if own_url == "no":
        return []
    if own_url:
        fmt = str(job.callback.get("Format", "XML"))
        payload, content_type = task_finish_payload(job, fmt)
        return [PendingCallback("TaskFinish", own_url, content_type, payload)]
    if queue is None:
        return []
    config = queue.notify_config
    events = {e.strip() for e in str(config.get("Event", "TaskFinish")).split(",")}
    if config.get("State") != "On" or not config.get("Url") or "TaskFinish" not in events:
        return []
    fmt = str(job.callback.get("Format") or config.get("ResultFormat") or "XML")
    payload, content_type = task_finish_payload(job, fmt)
    return [PendingCallback("TaskFinish", str(config["Url"]), content_type, payload)]
