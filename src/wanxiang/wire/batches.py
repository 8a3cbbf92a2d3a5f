"""The JobsDetail of a batch job, as the DescribeInventoryTriggerJobs seed shows it."""

from __future__ import annotations

from wanxiang.model.batch import Batch, BatchType
from wanxiang.model.job import JobState
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree, text


def batch_detail(batch: Batch) -> Tree:
    ended = batch.state in (JobState.SUCCESS, JobState.FAILED, JobState.CANCEL)
    tree: Tree = {
        "Code": batch.code if batch.state in (JobState.FAILED, JobState.CANCEL) else "Success",
        "Type": batch.type.value,
        # The summary of children's states stays readable after a Success too.
        "Message": batch.message if ended else "",
        "Name": batch.name,
        "JobId": batch.job_id,
        "State": batch.state.value,
        "CreationTime": format_time(batch.creation_time),
        "StartTime": format_time(batch.start_time),
        "EndTime": format_time(batch.end_time),
    }
    if batch.type == BatchType.JOB:
        tree["QueueId"] = text(batch.operation, "QueueId")
        tree["Tag"] = text(batch.operation, "Tag")
    tree["Input"] = batch.input
    tree["Operation"] = batch.operation
    return tree
