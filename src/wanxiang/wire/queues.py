"""Queue element trees (QueueList / Queue)."""

from __future__ import annotations

from wanxiang.model.queue import Queue
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree

NOTIFY_DEFAULTS: Tree = {"Url": "", "Event": "TaskFinish", "Type": "Url", "State": "Off", "ResultFormat": "XML"}


def queue_tree(queue: Queue) -> Tree:
    notify = dict(NOTIFY_DEFAULTS)
    notify.update(queue.notify_config)
    return {
        "QueueId": queue.queue_id,
        "Name": queue.name,
        "State": queue.state.value,
        "NotifyConfig": notify,
        "MaxSize": str(queue.max_size),
        "MaxConcurrent": str(queue.max_concurrent),
        "UpdateTime": format_time(queue.update_time),
        "CreateTime": format_time(queue.create_time),
        "Category": queue.category,
        "BucketId": queue.bucket_id,
    }
