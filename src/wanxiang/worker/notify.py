"""Which TaskFinish notifications a finished job owes: the job's CallBack wins over the queue's
NotifyConfig; a CallBack of ``no`` silences the queue's."""

from __future__ import annotations

from wanxiang.model.job import Job
from wanxiang.model.notify import mq_target_of, notify_target
from wanxiang.model.queue import Queue
from wanxiang.store.outbox import PendingCallback
from wanxiang.wire.jobs import task_finish_payload


def callback_target(job: Job, queue: Queue | None) -> tuple[str, str] | None:
    """(url, format) of the job's TaskFinish notification, or None when it owes none."""
    if job.callback.get("Type") == "TDMQ":
        return mq_target_of(job.callback).url(), str(job.callback.get("Format", "XML"))
    own_url = str(job.callback.get("Url", ""))
    if own_url == "no":
        return None
    if own_url:
        return own_url, str(job.callback.get("Format", "XML"))
    if queue is None:
        return None
    config = queue.notify_config
    events = {e.strip() for e in str(config.get("Event", "TaskFinish")).split(",")}
    target = notify_target(config)
    if config.get("State") != "On" or not target or "TaskFinish" not in events:
        return None
    return target, str(job.callback.get("Format") or config.get("ResultFormat") or "XML")


def task_finish_callbacks(job: Job, queue: Queue | None) -> list[PendingCallback]:
    target = callback_target(job, queue)
    if target is None:
        return []
    payload, content_type = task_finish_payload(job, target[1])
    return [PendingCallback("TaskFinish", target[0], content_type, payload)]
