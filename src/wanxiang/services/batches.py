"""Batch jobs: create (validated up front), get, list, cancel, and the child each object becomes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.batch import Batch, BatchType, output_values, with_output_object
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.ids import BATCH_PREFIX, new_id
from wanxiang.model.job import FAMILY_JOB_PREFIX, Job, JobState
from wanxiang.model.page import CursorPage
from wanxiang.model.tree import Tree, child, text
from wanxiang.model.workflow import NAME_RULE, Workflow
from wanxiang.services import validation
from wanxiang.services.context import BucketContext
from wanxiang.services.executions import ExecutionPlanner
from wanxiang.services.jobs import JobService
from wanxiang.services.listing import parse_list_common
from wanxiang.store.batches import BatchChild, BatchFilter
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job

INPUT_SOURCES = ("Prefix", "Object", "UrlFile", "Manifest")
JOB_REQUEST_FIELDS = ("QueueId", "QueueType", "CallBack", "CallBackFormat", "CallBackType", "CallBackMqConfig")
SAMPLE_KEY = "wanxiang-sample/object.png"


@dataclass
class BatchService:
    store: Store
    jobs: JobService
    planner: ExecutionPlanner
    allow_private_callbacks: bool = False
    mq_callbacks: bool = False  # a broker is configured: CallBackType TDMQ is accepted
    clock: Callable[[], datetime] = times.now

    def create(self, ctx: BucketContext, request: Tree) -> Batch:
        self.store.queues.ensure_bucket(ctx.bucket_id, ctx.region, self.clock())
        name = text(request, "Name").strip()
        if not NAME_RULE.match(name):
            raise invalid_argument("Name is required: up to 128 letters, digits, Chinese, - or _.")
        operation = child(request, "Operation")
        if operation is None:
            raise invalid_argument("Operation is required.")
        batch_type = _batch_type(request, operation)
        source = _input(request)
        time_interval(operation)
        batch = Batch(
            job_id=new_id(BATCH_PREFIX),
            bucket_id=ctx.bucket_id,
            region=ctx.region,
            name=name,
            type=batch_type,
            state=JobState.SUBMITTED,
            input=source,
            operation=operation,
            creation_time=self.clock(),
        )
        if batch_type == BatchType.WORKFLOW:
            batch.workflow_id = self._workflow(ctx, operation).workflow_id
        else:
            validation.callback_settings(
                operation, allow_private=self.allow_private_callbacks, mq_enabled=self.mq_callbacks
            )
            self.child_for(batch, SAMPLE_KEY)  # raises what the first child would
        self.store.batches.insert(batch)
        return batch

    def get(self, ctx: BucketContext, job_id: str) -> Batch | None:
        return self.store.batches.get(ctx.bucket_id, job_id.strip())

    def list(self, ctx: BucketContext, params: Mapping[str, str]) -> CursorPage[Batch]:
        window = parse_list_common(params)
        p = {k.lower(): v for k, v in params.items() if v != ""}
        kind = p.get("type")
        if kind and kind not in {t.value for t in BatchType}:
            raise invalid_argument(f"type must be Workflow or Job, not {kind!r}.")
        flt = BatchFilter(
            type=kind,
            name=p.get("name"),
            job_id=p.get("jobid"),
            workflow_id=p.get("workflowid"),
            window=window,
        )
        return CursorPage(*self.store.batches.list(ctx.bucket_id, flt))

    def cancel(self, ctx: BucketContext, job_id: str) -> Batch:
        batch = self.store.batches.cancel(ctx.bucket_id, job_id, self.clock())
        if batch is None:
            raise CIError(404, "NoSuchJob", f"The batch job {job_id} does not exist in bucket {ctx.bucket_id}.")
        return batch

    # -- children -----------------------------------------------------------------------------------

    def child_for(self, batch: Batch, key: str, workflow: Workflow | None = None) -> BatchChild:
        """What one object becomes. Type=Job: a job (a Failed one when this object cannot be a job,
        so the batch's counts say so); Type=Workflow: a run of the workflow."""
        if batch.type == BatchType.WORKFLOW:
            if workflow is None:
                workflow = self._workflow(BucketContext(batch.bucket_id, batch.region), batch.operation)
            start = self.planner.start(workflow, key, batch_id=batch.job_id)
            return BatchChild(key, start.execution.run_id, execution=start)
        job = self._child_job(batch, key)
        return BatchChild(key, job.job_id, jobs=[job])

    def _child_job(self, batch: Batch, key: str) -> Job:
        op = batch.operation
        tag = text(op, "Tag").strip()
        operation: Tree = dict(child(op, "JobParam") or {})
        for name in ("Output", "UserData", "JobLevel"):
            if name in op:
                operation[name] = op[name]
        request: Tree = {"Tag": tag, "Input": {"Object": key}, "Operation": operation}
        request.update({name: op[name] for name in JOB_REQUEST_FIELDS if name in op})
        ctx = BucketContext(batch.bucket_id, batch.region)
        if key == SAMPLE_KEY:
            job = self.jobs.build(ctx, parse_submit_job(request))[0]
        else:
            try:
                job = self.jobs.build(ctx, parse_submit_job(request))[0]
            except CIError as error:
                job = _failed_child(batch, tag, key, operation, error, self.clock())
        job = replace(job, inventory_trigger_job_id=batch.job_id)
        extra = {"inventorytriggerjobid": batch.job_id, "jobid": job.job_id}
        values = output_values(key, extra, engine_fills_ext=catalog.engine_fills_ext(tag))
        return replace(job, operation=with_output_object(job.operation, values))

    def _workflow(self, ctx: BucketContext, operation: Tree) -> Workflow:
        workflow_id = text(operation, "WorkflowIds").split(",")[0].strip()
        if not workflow_id:
            raise invalid_argument("Operation.WorkflowIds is required for a batch job of Type Workflow.")
        workflow = self.store.workflows.get(ctx.bucket_id, workflow_id)
        if workflow is None:
            raise invalid_argument(f"Operation.WorkflowIds {workflow_id!r} is not a workflow of bucket {ctx.bucket_id}.")
        return workflow


def time_interval(operation: Tree) -> tuple[datetime | None, datetime | None]:
    """Operation.TimeInterval as (Start, End), each None when not given."""
    found: list[datetime | None] = []
    for name in ("Start", "End"):
        raw = text(operation, "TimeInterval", name).strip()
        if not raw:
            found.append(None)
            continue
        try:
            found.append(times.parse_time(raw))
        except ValueError as exc:
            raise invalid_argument(f"Operation.TimeInterval.{name} {raw!r} is not a time like 2022-07-18T15:16:43+0800.") from exc
    start, end = found
    if start and end and start > end:
        raise invalid_argument("Operation.TimeInterval.Start is after its End.")
    return start, end


def _batch_type(request: Tree, operation: Tree) -> BatchType:
    raw = text(request, "Type").strip() or ("Job" if text(operation, "Tag") else "Workflow")
    if raw not in {t.value for t in BatchType}:
        raise invalid_argument(f"Type must be Workflow or Job, not {raw!r}.")
    return BatchType(raw)


def _input(request: Tree) -> Tree:
    source = child(request, "Input")
    given = [name for name in INPUT_SOURCES if source is not None and name in source]
    if source is None or len(given) != 1:
        raise invalid_argument("Input needs exactly one of Prefix, Object, UrlFile or Manifest.")
    if given[0] == "Manifest":
        raise CIError(400, "InvalidArgument", "Input.Manifest (COS inventory) is not available in wanxiang; use Prefix, Object or UrlFile.")
    if given[0] != "Prefix" and not text(source, given[0]).strip():
        raise invalid_argument(f"Input.{given[0]} must name an object.")
    return {given[0]: text(source, given[0])}


def _failed_child(batch: Batch, tag: str, key: str, operation: Tree, error: CIError, now: datetime) -> Job:
    family = catalog.family_of(tag)
    return Job(
        job_id=new_id(FAMILY_JOB_PREFIX[family] if family else "j"),
        bucket_id=batch.bucket_id,
        region=batch.region,
        tag=tag,
        queue_id=text(batch.operation, "QueueId"),
        state=JobState.FAILED,
        job_level=0,
        input={"Object": key},
        operation=operation,
        creation_time=now,
        code=error.code,
        message=error.message,
    )
