"""Workflows through the official cos-python-sdk-v5: CRUD, state, upload triggers, manual triggers,
executions and the WorkflowFinish callback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_callbacks import Receiver
from tests.support.images import marker_png, size
from tests.support.server import REGION
from wanxiang.wire.xml import parse_request

NODE = "PicProcess_1581665960537"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def media_workflow(cos: Any, bucket: str, *, prefix: str = "in/", output: str = "out/${InputName}_${RunId}.${Ext}",
                   notify_url: str = "", state: str = "Paused") -> dict[str, Any]:
    pic_queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]["QueueId"]
    media_queue = cos.ci_get_media_queue(Bucket=bucket)["QueueList"][0]["QueueId"]
    start_input: dict[str, Any] = {"QueueId": media_queue, "PicProcessQueueId": pic_queue, "ObjectPrefix": prefix}
    if notify_url:
        start_input["NotifyConfig"] = {"Url": notify_url, "Event": "WorkflowFinish", "State": "On", "Type": "Url"}
    return {
        "MediaWorkflow": {
            "Name": "rotate-uploads",
            "State": state,
            "Topology": {
                "Dependencies": {"Start": NODE, NODE: "End"},
                "Nodes": {
                    "Start": {"Type": "Start", "Input": start_input},
                    NODE: {
                        "Type": "PicProcess",
                        "Operation": {
                            "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/50x"},
                            "Output": {"Region": REGION, "Bucket": bucket, "Object": output},
                        },
                    },
                },
            },
        }
    }


def executions(cos: Any, bucket: str, workflow_id: str) -> list[dict[str, Any]]:
    found = cos.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow_id, Size=100)
    return as_list(found.get("WorkflowExecutionList"))


def as_list(value: Any) -> list[dict[str, Any]]:
    """The SDK leaves a single WorkflowExecutionList entry a dict."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def wait_runs(cos: Any, bucket: str, workflow_id: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = executions(cos, bucket, workflow_id)
        if len(runs) >= count and all(r["State"] in ("Success", "Failed") for r in runs):
            return runs
        time.sleep(0.1)
    raise AssertionError(f"runs of {workflow_id} did not finish: {runs}")


def test_uploads_under_in_become_thumbnails_and_workflow_finish_callbacks(cos: Any, bucket: str, receiver: Receiver) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="before/a.png")
    # Outputs land under in/ too: they are written by the job, not uploaded, so they trigger nothing.
    body = media_workflow(cos, bucket, output="in/thumbs/${InputName}.png", notify_url=receiver.url)
    created = cos.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]
    workflow_id = created["WorkflowId"]
    assert created["State"] == "Paused" and created["Topology"]["Nodes"][NODE]["Type"] == "PicProcess"
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="in/paused.png")
    cos.ci_update_workflow_state(Bucket=bucket, WorkflowId=workflow_id, UpdateState="active")

    for name in ("one", "two"):
        cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key=f"in/{name}.png", ContentType="image/png")
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="elsewhere/three.png")
    runs = wait_runs(cos, bucket, workflow_id, 2)

    time.sleep(0.5)  # room for a wrongly re-triggered run to show up
    runs = executions(cos, bucket, workflow_id)
    assert sorted(r["Object"] for r in runs) == ["in/one.png", "in/two.png"]
    assert {r["State"] for r in runs} == {"Success"}
    for name in ("one", "two"):
        thumb = cos.get_object(Bucket=bucket, Key=f"in/thumbs/{name}.png")["Body"].get_raw_stream().read()
        assert size(thumb) == (50, 25)
    deadline = time.monotonic() + 15
    while len(receiver.bodies) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    finished = [parse_request(b, root="Response") for _, b in receiver.bodies]
    assert {f["EventName"] for f in finished} == {"WorkflowFinish"}
    assert sorted(f["WorkflowExecution"]["Object"] for f in finished) == ["in/one.png", "in/two.png"]
    headers = {h["Key"]: h["Value"] for h in finished[0]["WorkflowExecution"]["CosHeaders"]}
    assert headers["EventName"] == "cos:ObjectCreated:Put" and headers["Content-Type"] == "image/png"

    detail = cos.ci_get_workflowexecution(Bucket=bucket, RunId=runs[0]["RunId"])["WorkflowExecution"][0]
    assert detail["WorkflowId"] == workflow_id and detail["WorkflowName"] == "rotate-uploads"
    task = detail["Tasks"]
    assert task["Name"] == NODE and task["State"] == "Success" and task["Type"] == "PicProcess"
    job = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=task["JobId"])["JobsDetail"][0]
    assert job["Workflow"] == {"Name": NODE, "RunId": runs[0]["RunId"], "WorkflowId": workflow_id,
                               "WorkflowName": "rotate-uploads"}


def test_trigger_workflow_runs_it_for_an_existing_object(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="old/photo.png")
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=media_workflow(cos, bucket))["MediaWorkflow"]["WorkflowId"]

    run_id = cos.ci_trigger_workflow(Bucket=bucket, WorkflowId=workflow_id, Key="old/photo.png")["InstanceId"]
    runs = wait_runs(cos, bucket, workflow_id, 1)

    assert [r["RunId"] for r in runs] == [run_id] and runs[0]["State"] == "Success"
    thumb = cos.get_object(Bucket=bucket, Key=f"out/photo_{run_id}.png")["Body"].get_raw_stream().read()
    assert size(thumb) == (50, 25)
    failed = cos.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow_id, States="Failed")
    assert not failed.get("WorkflowExecutionList")


def test_workflow_describe_update_and_delete(cos: Any, bucket: str) -> None:
    body = media_workflow(cos, bucket)
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    body["MediaWorkflow"]["Name"] = "renamed"
    updated = cos.ci_update_workflow(Bucket=bucket, WorkflowId=workflow_id, Body=body)["MediaWorkflow"]
    assert updated["Name"] == "renamed" and updated["WorkflowId"] == workflow_id

    listed = cos.ci_get_workflow(Bucket=bucket, Ids=workflow_id + ",w" + "0" * 32)
    assert [w["Name"] for w in listed["MediaWorkflowList"]] == ["renamed"]
    assert listed["NonExistIDs"] == "w" + "0" * 32
    assert cos.ci_get_workflow(Bucket=bucket)["TotalCount"] == "1"

    assert cos.ci_delete_workflow(Bucket=bucket, WorkflowId=workflow_id)["WorkflowId"] == workflow_id
    assert cos.ci_get_workflow(Bucket=bucket)["TotalCount"] == "0"
    with pytest.raises(CosServiceError) as missing:
        cos.ci_update_workflow_state(Bucket=bucket, WorkflowId=workflow_id, UpdateState="paused")
    assert missing.value.get_status_code() == 404


def test_a_workflow_naming_no_queues_runs_on_the_buckets_default_queues(cos: Any, bucket: str) -> None:
    body = media_workflow(cos, bucket, state="Active")
    start_input = body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]
    start_input.pop("PicProcessQueueId")
    start_input.pop("QueueId")
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="in/q.png")

    run = wait_runs(cos, bucket, workflow_id, 1)[0]
    assert run["State"] == "Success"
    pic_queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]["QueueId"]
    detail = cos.ci_get_workflowexecution(Bucket=bucket, RunId=run["RunId"])["WorkflowExecution"][0]
    job_id = as_list(detail["Tasks"])[0]["JobId"]
    job = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]
    assert job["QueueId"] == pic_queue
    output = job["Operation"]["Output"]["Object"]
    assert size(cos.get_object(Bucket=bucket, Key=output)["Body"].get_raw_stream().read()) == (50, 25)


def test_the_sdks_own_workflow_test_topology_is_accepted_and_its_state_replies_carry_the_workflow(
    cos: Any, bucket: str
) -> None:
    """The body of cos-python-sdk-v5's ut/test.py test_ci_workflow: free-form node names, no
    QueueId, a NotifyConfig without State (its callback Url is swapped for a refused-but-local one
    so that nothing leaves this machine)."""

    def body(process_type: str) -> dict[str, Any]:
        return {"MediaWorkflow": {"Name": "image-inspect", "State": "Paused", "Topology": {
            "Dependencies": {"Start": "ImageInspectNode", "ImageInspectNode": "End"},
            "Nodes": {
                "Start": {"Type": "Start", "Input": {
                    "ObjectPrefix": "test",
                    "NotifyConfig": {"Type": "Url", "Url": "http://127.0.0.1:9/callback",
                                     "Event": "WorkflowFinish,TaskFinish", "ResultFormat": ""},
                    "ExtFilter": {"State": "On", "Image": "true"}}},
                "ImageInspectNode": {"Type": "ImageInspect", "Operation": {
                    "ImageInspect": {"AutoProcess": "true", "ProcessType": process_type}}},
            }}}}

    created = cos.ci_create_workflow(Bucket=bucket, Body=body("BackupObject"), ContentType="application/xml")
    workflow_id = created["MediaWorkflow"]["WorkflowId"]
    assert workflow_id

    updated = cos.ci_update_workflow(Bucket=bucket, WorkflowId=workflow_id, Body=body("SwitchObjectToPrivate"),
                                     ContentType="application/xml")
    assert updated["MediaWorkflow"]["WorkflowId"] == workflow_id
    node = updated["MediaWorkflow"]["Topology"]["Nodes"]["ImageInspectNode"]
    assert node["Operation"]["ImageInspect"]["ProcessType"] == "SwitchObjectToPrivate"

    active = cos.ci_update_workflow_state(Bucket=bucket, WorkflowId=workflow_id, UpdateState="active",
                                          ContentType="application/xml")
    assert active["MediaWorkflow"]["State"] == "Active"
    listed = cos.ci_get_workflow(Bucket=bucket, Ids=workflow_id, Name="image-inspect", ContentType="application/xml")
    assert listed["MediaWorkflowList"][0]["WorkflowId"] == workflow_id
    paused = cos.ci_update_workflow_state(Bucket=bucket, WorkflowId=workflow_id, UpdateState="paused")
    assert paused["MediaWorkflow"]["State"] == "Paused"
    assert cos.ci_delete_workflow(Bucket=bucket, WorkflowId=workflow_id)["WorkflowId"] == workflow_id


def test_a_batch_of_type_workflow_runs_the_workflow_for_each_object(cos: Any, bucket: str) -> None:
    for i in range(3):
        cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key=f"in/{i}.png")
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=media_workflow(cos, bucket))["MediaWorkflow"]["WorkflowId"]
    job = {"Name": "all-in", "Type": "Workflow", "Input": {"Prefix": "in/"}, "Operation": {"WorkflowIds": workflow_id}}
    batch_id = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=job)["JobsDetail"][0]["JobId"]

    wait_runs(cos, bucket, workflow_id, 3)
    by_batch = cos.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow_id, BatchJobId=batch_id)
    assert sorted(r["Object"] for r in as_list(by_batch["WorkflowExecutionList"])) == [f"in/{i}.png" for i in range(3)]
    listed = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, WorkflowId=workflow_id)["JobsDetail"]
    assert [b["JobId"] for b in listed] == [batch_id]
