"""Workflow trees on the wire: MediaWorkflow, executions, their Tasks, and WorkflowFinish."""

from __future__ import annotations

import json

from wanxiang.model.job import Job
from wanxiang.model.times import format_time
from wanxiang.model.tree import Tree, text
from wanxiang.model.workflow import Execution, Workflow
from wanxiang.wire.jobs import _json_form
from wanxiang.wire.xml import render


def workflow_tree(workflow: Workflow) -> Tree:
    return {
        "Name": workflow.name,
        "WorkflowId": workflow.workflow_id,
        "State": workflow.state.value,
        "CreateTime": format_time(workflow.create_time),
        "UpdateTime": format_time(workflow.update_time),
        "BucketId": workflow.bucket_id,
        "Topology": workflow.topology,
    }


def execution_item(run: Execution) -> Tree:
    """One entry of WorkflowExecutionList (docs say CreateTime, GoSDK reads CreationTime: both)."""
    created = format_time(run.create_time)
    return {
        "RunId": run.run_id,
        "WorkflowId": run.workflow_id,
        "State": run.state.value,
        "CreateTime": created,
        "CreationTime": created,
        "Object": run.object_key,
    }


def execution_tree(run: Execution, tasks: dict[str, Job]) -> Tree:
    tree = execution_item(run)
    tree.update(
        {
            "WorkflowName": run.workflow_name,
            "BucketId": run.bucket_id,
            "EndTime": format_time(run.end_time),
            "Topology": run.topology,
        }
    )
    if run.batch_id:
        tree["InventoryTriggerJobId"] = run.batch_id
    if run.cos_headers:
        tree["CosHeaders"] = run.cos_headers
    if tasks:
        tree["Tasks"] = [task_tree(name, job) for name, job in sorted(tasks.items(), key=lambda i: i[1].creation_time)]
    return tree


def task_tree(name: str, job: Job) -> Tree:
    tree: Tree = {
        "Type": job.tag,
        "CreateTime": format_time(job.creation_time),
        "StartTime": format_time(job.start_time),
        "EndTime": format_time(job.end_time),
        "State": job.state.value,
        "JobId": job.job_id,
        "Name": name,
        "TemplateId": text(job.operation, "TemplateId"),
        "TemplateName": text(job.operation, "TemplateName"),
    }
    if job.state.finished and job.code not in ("", "Success"):
        tree["Code"], tree["Message"] = job.code, job.message
    output = text(job.operation, "Output", "Object")
    if output and job.state.value == "Success":
        bucket = text(job.operation, "Output", "Bucket") or job.bucket_id
        region = text(job.operation, "Output", "Region") or job.region
        tree["ResultInfo"] = {
            "ObjectCount": "1",
            "ObjectInfo": {
                "ObjectName": output,
                "ObjectUrl": f"http://{bucket}.cos.{region}.myqcloud.com/{output}",
                "InputObjectName": job.input_object,
                "Code": "Success",
                "Message": "",
            },
        }
    return tree


def workflow_finish_payload(run: Execution, tasks: dict[str, Job], fmt: str) -> tuple[str, str]:
    """The WorkflowFinish notification body and its Content-Type."""
    body: Tree = {
        "WorkflowId": run.workflow_id,
        "WorkflowName": run.workflow_name,
        "RunId": run.run_id,
        "State": run.state.value,
        "BucketId": run.bucket_id,
        "Object": run.object_key,
        "CreateTime": format_time(run.create_time, sep=" "),
    }
    if run.cos_headers:
        body["CosHeaders"] = run.cos_headers
    if tasks:
        body["Tasks"] = [task_tree(name, job) for name, job in sorted(tasks.items(), key=lambda i: i[1].creation_time)]
    if fmt.upper() == "JSON":
        return json.dumps({"EventName": "WorkflowFinish", "WorkflowExecution": _json_form(body)}, ensure_ascii=False), "application/json"
    return render("Response", {"EventName": "WorkflowFinish", "WorkflowExecution": body}).decode(), "application/xml"
