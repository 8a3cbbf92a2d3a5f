"""Workflows: create, update, state, describe, delete, trigger, and the upload trigger."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import WORKFLOW_PREFIX, new_id
from wanxiang.model.job import Job
from wanxiang.model.notify import mq_unavailable, parse_mq_config
from wanxiang.model.page import CursorPage, NumberedPage
from wanxiang.model.tree import Tree, child, text
from wanxiang.model.workflow import (
    NAME_RULE,
    START,
    Execution,
    Workflow,
    WorkflowState,
    matches_upload,
    nodes,
    queue_field_for,
    validate_topology,
)
from wanxiang.services.context import BucketContext
from wanxiang.services.executions import ExecutionPlanner
from wanxiang.services.listing import page_params, parse_list_common
from wanxiang.storage.base import ObjectMeta
from wanxiang.store.executions import ExecutionFilter
from wanxiang.store.store import Store

MAX_IDS = 100


@dataclass(frozen=True)
class UploadEvent:
    """An object write seen by the HTTP API, as a workflow trigger sees it."""

    ctx: BucketContext
    meta: ObjectMeta
    request_id: str
    headers: Mapping[str, str]


@dataclass
class WorkflowService:
    store: Store
    planner: ExecutionPlanner
    mq_callbacks: bool = False  # a broker is configured: NotifyConfig Type TDMQ is accepted
    clock: Callable[[], datetime] = times.now

    # -- CRUD ---------------------------------------------------------------------------------------

    def create(self, ctx: BucketContext, request: Tree) -> Workflow:
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        name, state, topology = self._parse(ctx, request, default_state=WorkflowState.PAUSED)
        now = self.clock()
        workflow = Workflow(new_id(WORKFLOW_PREFIX), ctx.bucket_id, ctx.region, name, state, topology, now, now)
        self.store.workflows.insert(workflow)
        return workflow

    def update(self, ctx: BucketContext, workflow_id: str, request: Tree) -> Workflow:
        existing = self.existing(ctx, workflow_id)
        name, state, topology = self._parse(ctx, request, default_state=existing.state)
        updated = Workflow(
            workflow_id, ctx.bucket_id, existing.region, name, state, topology, existing.create_time, self.clock()
        )
        self.store.workflows.update(updated)
        return updated

    def set_state(self, ctx: BucketContext, workflow_id: str, state: WorkflowState) -> Workflow:
        """Activate or pause; the workflow as it now is (the SDK reads MediaWorkflow.State back)."""
        if not self.store.workflows.set_state(ctx.bucket_id, workflow_id, state, self.clock()):
            raise _no_such_workflow(ctx, workflow_id)
        return self.existing(ctx, workflow_id)

    def delete(self, ctx: BucketContext, workflow_id: str) -> None:
        if not self.store.workflows.delete(ctx.bucket_id, workflow_id):
            raise _no_such_workflow(ctx, workflow_id)

    def describe(self, ctx: BucketContext, params: Mapping[str, str]) -> NumberedPage[Workflow]:
        p = {k.lower(): v for k, v in params.items() if v != ""}
        ids = [i.strip() for i in p.get("ids", "").split(",") if i.strip()]
        if len(ids) > MAX_IDS:
            raise invalid_argument(f"ids names at most {MAX_IDS} workflows.")
        number, size = page_params(p)
        found, total = self.store.workflows.list(
            ctx.bucket_id, ids=ids, name=p.get("name", ""), page_number=number, page_size=size
        )
        missing = [i for i in ids if i not in {w.workflow_id for w in found}]
        return NumberedPage(found, total, number, size, missing)

    def existing(self, ctx: BucketContext, workflow_id: str) -> Workflow:
        workflow = self.store.workflows.get(ctx.bucket_id, workflow_id)
        if workflow is None:
            raise _no_such_workflow(ctx, workflow_id)
        return workflow

    def _parse(self, ctx: BucketContext, request: Tree, default_state: WorkflowState) -> tuple[str, WorkflowState, Tree]:
        body = child(request, "MediaWorkflow") or request
        name = text(body, "Name").strip()
        if not NAME_RULE.match(name):
            raise invalid_argument("MediaWorkflow.Name is required: up to 128 letters, digits, Chinese, - or _.")
        raw_state = text(body, "State").strip() or default_state.value
        if raw_state not in {s.value for s in WorkflowState}:
            raise invalid_argument(f"MediaWorkflow.State must be Active or Paused, not {raw_state!r}.")
        topology = child(body, "Topology")
        validate_topology(topology)
        assert topology is not None
        self._check_queues(ctx, topology)
        self._check_notify(topology)
        return name, WorkflowState(raw_state), topology

    def _check_notify(self, topology: Tree) -> None:
        """A TDMQ NotifyConfig needs a broker and a well-formed target. (Its Url form is checked
        where it is delivered.)"""
        config = child(topology, "Nodes", START, "Input", "NotifyConfig")
        if config is not None and text(config, "Type").strip() == "TDMQ" and text(config, "State").strip() != "Off":
            if not self.mq_callbacks:
                raise mq_unavailable("Start.Input.NotifyConfig.Type")
            parse_mq_config(config, "Start.Input.NotifyConfig")

    def _check_queues(self, ctx: BucketContext, topology: Tree) -> None:
        start_input = child(topology, "Nodes", START, "Input") or {}
        fields = {"QueueId"} | {queue_field_for(text(n, "Type"), catalog.family_of) for n in nodes(topology).values()}
        for field in sorted(fields):
            queue_id = text(start_input, field).strip()
            if not queue_id:
                continue
            queue = self.store.queues.get(queue_id)
            if queue is None or queue.bucket_id != ctx.bucket_id:
                raise invalid_argument(f"Start.Input.{field} {queue_id!r} is not a queue of bucket {ctx.bucket_id}.")

    # -- runs ---------------------------------------------------------------------------------------

    def trigger(self, ctx: BucketContext, params: Mapping[str, str]) -> str:
        p = {k.lower(): v for k, v in params.items()}
        workflow_id, key = p.get("workflowid", "").strip(), p.get("object", "")
        if not workflow_id:
            raise invalid_argument("workflowId is required.")
        if not key:
            raise invalid_argument("object is required.")
        workflow = self.existing(ctx, workflow_id)
        start = self.planner.start(workflow, key.lstrip("/"))
        if self.store.executions.start(start):
            self.store.jobs.wake()
        return start.execution.run_id

    def on_upload(self, event: UploadEvent) -> list[str]:
        """Start one run of every Active workflow the upload matches; the run ids started."""
        started: list[str] = []
        for workflow in self.store.workflows.active_in_bucket(event.ctx.bucket_id):
            if not matches_upload(workflow.start_input, event.meta.key, event.meta.content_type):
                continue
            start = self.planner.start(
                workflow, event.meta.key, trigger_key=trigger_key(workflow, event), cos_headers=cos_headers(event)
            )
            if self.store.executions.start(start):
                started.append(start.execution.run_id)
        if started:
            self.store.jobs.wake()
        return started

    def list_executions(self, ctx: BucketContext, params: Mapping[str, str]) -> CursorPage[Execution]:
        window = parse_list_common(params, states=("Running", "Success", "Failed", "Cancel"))
        p = {k.lower(): v for k, v in params.items() if v != ""}
        workflow_id = p.get("workflowid", "")
        if not workflow_id:
            raise invalid_argument("workflowId is required.")
        flt = ExecutionFilter(
            workflow_id=workflow_id,
            name=p.get("name"),
            batch_id=p.get("jobid"),
            window=window,
        )
        return CursorPage(*self.store.executions.list(ctx.bucket_id, flt))

    def get_execution(self, ctx: BucketContext, run_id: str) -> tuple[Execution, dict[str, Job]]:
        run = self.store.executions.get(ctx.bucket_id, run_id)
        if run is None:
            raise CIError(404, "NoSuchExecution", f"The workflow execution {run_id!r} does not exist in bucket {ctx.bucket_id}.")
        return run, self.store.executions.tasks(run_id)


def trigger_key(workflow: Workflow, event: UploadEvent) -> str:
    """One upload event of one object for one workflow: the same event never starts two runs."""
    raw = "\n".join([workflow.workflow_id, event.ctx.bucket_id, event.meta.key, event.meta.etag, event.request_id])
    return hashlib.sha256(raw.encode()).hexdigest()


def cos_headers(event: UploadEvent) -> list[Tree]:
    headers = [
        {"Key": "Content-Type", "Value": event.meta.content_type},
        {"Key": "EventName", "Value": "cos:ObjectCreated:Put"},
        {"Key": "Size", "Value": str(event.meta.size)},
        {"Key": "x-cos-request-id", "Value": event.request_id},
    ]
    headers += [{"Key": f"x-cos-meta-{name}", "Value": value} for name, value in sorted(event.meta.meta.items())]
    return headers


def _no_such_workflow(ctx: BucketContext, workflow_id: str) -> CIError:
    return CIError(404, "NoSuchWorkflow", f"The workflow {workflow_id!r} does not exist in bucket {ctx.bucket_id}.")
