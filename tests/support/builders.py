"""Records as the API layer hands them to the store: jobs, templates, workflows, executions, batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wanxiang.model.batch import Batch, BatchType
from wanxiang.model.ids import new_id
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.model.template import Template
from wanxiang.model.tree import Tree
from wanxiang.model.workflow import Execution, Workflow, WorkflowState
from wanxiang.store.queues import default_queue_id

BUCKET = "contract-1250000000"
OTHER_BUCKET = "neighbour-1250000000"
REGION = "ap-guangzhou"
# A fixed clock: tests move it forward explicitly (lease expiry, retries) instead of sleeping.
T0 = datetime(2026, 1, 1, 8, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def pic_job(
    bucket: str = BUCKET,
    *,
    level: int = 0,
    key: str = "in/a.png",
    created: datetime = T0,
    state: JobState = JobState.SUBMITTED,
    tag: str = "PicProcess",
    params: Tree | None = None,
    inventory_trigger_job_id: str = "",
    workflow_id: str = "",
) -> Job:
    """A job on the bucket's default pic queue, as a submit would store it."""
    rule = params if params is not None else {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}}
    return Job(
        job_id=new_id("c"),
        bucket_id=bucket,
        region=REGION,
        tag=tag,
        queue_id=default_queue_id(bucket, QueueFamily.PIC),
        state=state,
        job_level=level,
        input={"Object": key},
        operation={"PicProcess": rule.get("PicProcess", {}), "Output": {"Object": "out/${InputName}.png"}},
        creation_time=created,
        params=rule,
        inventory_trigger_job_id=inventory_trigger_job_id,
        workflow_id=workflow_id,
    )


def template(bucket: str = BUCKET, *, name: str = "thumb", tag: str = "PicProcess", params: Tree | None = None,
             created: datetime = T0) -> Template:
    return Template(
        template_id=new_id("t1"),
        bucket_id=bucket,
        tag=tag,
        name=name,
        category="Custom",
        params=params if params is not None else {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}},
        create_time=created,
        update_time=created,
    )


def workflow(bucket: str = BUCKET, *, name: str = "thumbs", state: WorkflowState = WorkflowState.ACTIVE,
             created: datetime = T0) -> Workflow:
    return Workflow(
        workflow_id=new_id("w"),
        bucket_id=bucket,
        region=REGION,
        name=name,
        state=state,
        topology={
            "Dependencies": {"Start": "PicProcess_1", "PicProcess_1": "End"},
            "Nodes": {
                "Start": {"Type": "Start", "Input": {"QueueId": "p1", "ObjectPrefix": "in/"}},
                "PicProcess_1": {"Type": "PicProcess", "Operation": {"TemplateId": "t1abc"}},
            },
        },
        create_time=created,
        update_time=created,
    )


def execution_of(flow: Workflow, key: str = "in/a.png", *, created: datetime = T0, batch_id: str = "") -> Execution:
    """A Running execution of ``flow`` over the object ``key``."""
    return Execution(
        run_id=new_id("i"),
        workflow_id=flow.workflow_id,
        workflow_name=flow.name,
        bucket_id=flow.bucket_id,
        region=flow.region,
        object_key=key,
        state=JobState.RUNNING,
        create_time=created,
        topology=flow.topology,
        batch_id=batch_id,
        cos_headers=[{"Key": "x-cos-meta-origin", "Value": "upload"}],
    )


def batch(bucket: str = BUCKET, *, name: str = "nightly", type: BatchType = BatchType.JOB, workflow_id: str = "",
          created: datetime = T0) -> Batch:
    return Batch(
        job_id=new_id("b"),
        bucket_id=bucket,
        region=REGION,
        name=name,
        type=type,
        state=JobState.SUBMITTED,
        input={"Prefix": "in/"},
        operation={"Tag": "PicProcess", "Output": {"Object": "out/${InputNameAndExt}"}},
        creation_time=created,
        workflow_id=workflow_id,
    )
