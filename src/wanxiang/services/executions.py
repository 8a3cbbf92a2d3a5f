"""Planning workflow executions: the jobs an execution's nodes become, and how an execution moves on.

Pure decisions over the store's records; the store makes them durable (unique keys make every
step idempotent, so any worker may repeat any step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.batch import output_values, with_output_object
from wanxiang.model.errors import CIError
from wanxiang.model.ids import EXECUTION_PREFIX, new_id
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.model.notify import notify_target
from wanxiang.model.tree import Tree, child, text
from wanxiang.model.workflow import (
    START,
    Execution,
    Workflow,
    node_type,
    nodes,
    notify_enabled,
    queue_field_for,
    successors,
)
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.store.executions import ExecutionStart
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.workflows import workflow_finish_payload


@dataclass
class ExecutionPlanner:
    store: Store
    jobs: JobService
    clock: Callable[[], datetime] = times.now

    def start(
        self,
        workflow: Workflow,
        key: str,
        *,
        batch_id: str = "",
        trigger_key: str | None = None,
        cos_headers: list[Tree] | None = None,
    ) -> ExecutionStart:
        execution = Execution(
            run_id=new_id(EXECUTION_PREFIX),
            workflow_id=workflow.workflow_id,
            workflow_name=workflow.name,
            bucket_id=workflow.bucket_id,
            region=workflow.region,
            object_key=key,
            state=JobState.RUNNING,
            create_time=self.clock(),
            topology=workflow.topology,
            batch_id=batch_id,
            cos_headers=cos_headers or [],
        )
        tasks = [(name, self.node_job(execution, name, key)) for name in successors(workflow.topology, START)]
        return ExecutionStart(execution, trigger_key, tasks)

    def node_job(self, execution: Execution, name: str, input_key: str) -> Job:
        """The job of one node; a node that cannot become a job becomes a Failed job saying why."""
        start_input = child(execution.topology, "Nodes", START, "Input") or {}
        kind = node_type(execution.topology, name)
        node = nodes(execution.topology).get(name) or {}
        operation = dict(child(node, "Operation") or {})
        request: Tree = {
            "Tag": kind,
            "Input": _node_input(input_key, execution.cos_headers),
            "Operation": operation,
            "QueueId": text(start_input, queue_field_for(kind, catalog.family_of)),
        }
        request.update(_task_callback(start_input))
        ctx = BucketContext(execution.bucket_id, execution.region)
        try:
            job = self.jobs.build(ctx, parse_submit_job(request))[0]
        except CIError as error:
            job = _failed_job(execution, kind, input_key, operation, text(start_input, "QueueId"), error, self.clock())
        job = replace(
            job,
            workflow_id=execution.workflow_id,
            inventory_trigger_job_id=execution.batch_id,
            workflow={"Name": name, "RunId": execution.run_id, "WorkflowId": execution.workflow_id, "WorkflowName": execution.workflow_name},
        )
        extra = {"runid": execution.run_id, "jobid": job.job_id, "inventorytriggerjobid": execution.batch_id}
        values = output_values(execution.object_key, extra, engine_fills_ext=catalog.engine_fills_ext(kind))
        return replace(job, operation=with_output_object(job.operation, values))

    def next_steps(self, execution: Execution, tasks: dict[str, Job]) -> list[tuple[str, Job]]:
        """Jobs for the successors of nodes that succeeded and have none yet."""
        steps: list[tuple[str, Job]] = []
        for name, job in tasks.items():
            if job.state != JobState.SUCCESS:
                continue
            for successor in successors(execution.topology, name):
                if successor not in tasks:
                    steps.append((successor, self.node_job(execution, successor, _produced_key(job, execution.object_key))))
        return steps

    def outcome(self, execution: Execution, tasks: dict[str, Job]) -> JobState | None:
        """The execution's final state once nothing is left to run, else None."""
        if any(not job.state.finished for job in tasks.values()):
            return None
        if any(
            successor not in tasks
            for name, job in tasks.items()
            if job.state == JobState.SUCCESS
            for successor in successors(execution.topology, name)
        ):
            return None
        return JobState.SUCCESS if all(j.state == JobState.SUCCESS for j in tasks.values()) else JobState.FAILED

    def finish_callbacks(self, execution: Execution, state: JobState, tasks: dict[str, Job]) -> list[PendingCallback]:
        config = self._notify_config(execution)
        url = notify_target(config)
        if not notify_enabled(config, "WorkflowFinish"):
            return []
        finished = replace(execution, state=state, end_time=self.clock())
        payload, content_type = workflow_finish_payload(finished, tasks, text(config, "ResultFormat") or "XML")
        return [PendingCallback("WorkflowFinish", url, content_type, payload)]

    def _notify_config(self, execution: Execution) -> Tree:
        start_input = child(execution.topology, "Nodes", START, "Input") or {}
        own = child(start_input, "NotifyConfig")
        if own is not None:
            return own
        queue = self.store.queues.get(text(start_input, "QueueId") or default_queue_id(execution.bucket_id, QueueFamily.MEDIA))
        return queue.notify_config if queue is not None else {}


def _node_input(key: str, cos_headers: list[Tree]) -> Tree:
    found: Tree = {"Object": key}
    if cos_headers:
        found["CosHeaders"] = cos_headers
    return found


def _task_callback(start_input: Tree) -> Tree:
    """A workflow NotifyConfig decides its nodes' TaskFinish; without one the queue's applies."""
    config = child(start_input, "NotifyConfig")
    if config is None:
        return {}
    if not notify_enabled(config, "TaskFinish"):
        return {"CallBack": "no"}
    fmt = text(config, "ResultFormat") or "XML"
    if text(config, "Type").strip() == "TDMQ":
        mq = {field: text(config, field) for field in ("MqMode", "MqName", "MqRegion")}
        return {"CallBackType": "TDMQ", "CallBackMqConfig": mq, "CallBackFormat": fmt}
    return {"CallBack": text(config, "Url"), "CallBackFormat": fmt}


def _produced_key(job: Job, fallback: str) -> str:
    """What a successor node reads: its predecessor's output object, else the execution's object."""
    return text(job.operation, "Output", "Object") or fallback


def _failed_job(
    execution: Execution, kind: str, key: str, operation: Tree, queue_id: str, error: CIError, now: datetime
) -> Job:
    return Job(
        job_id=new_id("j"),
        bucket_id=execution.bucket_id,
        region=execution.region,
        tag=kind,
        queue_id=queue_id,
        state=JobState.FAILED,
        job_level=0,
        input={"Object": key},
        operation=operation,
        creation_time=now,
        start_time=now,
        end_time=now,
        code=error.code,
        message=error.message,
    )
