"""Batch jobs (inventory trigger jobs) through the official cos-python-sdk-v5, against a live server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.images import marker_png, size
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request


def rotate_batch(bucket: str, name: str = "rotate-in") -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Job",
        "Input": {"Prefix": "in/"},
        "Operation": {
            "Tag": "PicProcess",
            "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
            "Output": {"Region": REGION, "Bucket": bucket, "Object": "out/${InputName}.${Ext}"},
            "UserData": "from the sdk",
        },
    }


def wait_batch(cos: Any, bucket: str, job_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        detail = cos.ci_get_inventory_trigger_jobs(Bucket=bucket, JobID=job_id)["JobsDetail"][0]
        if detail["State"] in ("Success", "Failed", "Cancel"):
            return detail
        time.sleep(0.1)
    raise AssertionError(f"batch {job_id} did not finish; last seen {detail}")


def test_batch_job_rotates_every_object_under_the_prefix(cos: Any, bucket: str, server: RunningServer) -> None:
    for i in range(4):
        cos.put_object(Bucket=bucket, Body=marker_png(16, 8), Key=f"in/{i}.png")
    cos.put_object(Bucket=bucket, Body=marker_png(16, 8), Key="other/skip.png")

    created = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=rotate_batch(bucket))["JobsDetail"][0]
    assert created["State"] == "Submitted" and created["Type"] == "Job" and created["Input"]["Prefix"] == "in/"
    detail = wait_batch(cos, bucket, created["JobId"])

    assert detail["State"] == "Success", detail
    assert detail["Operation"]["UserData"] == "from the sdk"
    assert detail["StartTime"] != "-" and detail["EndTime"] != "-"
    for i in range(4):
        body = cos.get_object(Bucket=bucket, Key=f"out/{i}.png")["Body"].get_raw_stream().read()
        assert size(body) == (8, 16)
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="out/skip.png")
    children = signed(server, "GET", "/jobs", bucket,
                      params={"tag": "PicProcess", "inventoryTriggerJobId": created["JobId"], "size": "10"})
    details = parse_request(children.content, root="Response")["JobsDetail"]
    assert sorted(d["Input"]["Object"] for d in details) == [f"in/{i}.png" for i in range(4)]


def test_batch_jobs_are_listed_by_type_name_and_state(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(16, 8), Key="in/a.png")
    first = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=rotate_batch(bucket, "first"))["JobsDetail"][0]
    second = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=rotate_batch(bucket, "second"))["JobsDetail"][0]
    wait_batch(cos, bucket, first["JobId"])
    wait_batch(cos, bucket, second["JobId"])

    listed = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job")["JobsDetail"]
    assert [d["JobId"] for d in listed] == [second["JobId"], first["JobId"]]
    assert "JobsDetail" not in cos.ci_list_inventory_trigger_jobs(Bucket=bucket)  # the SDK's default Type is Workflow
    named = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job", Name="first")["JobsDetail"]
    assert [d["JobId"] for d in named] == [first["JobId"]]
    page = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job", Size=1, OrderByTime="Asc")
    assert [d["JobId"] for d in page["JobsDetail"]] == [first["JobId"]]
    rest = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job", Size=1, OrderByTime="Asc", NextToken=page["NextToken"])
    assert [d["JobId"] for d in rest["JobsDetail"]] == [second["JobId"]]
    assert "JobsDetail" not in cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job", States="Running")
    missing = cos.ci_get_inventory_trigger_jobs(Bucket=bucket, JobID="b" + "0" * 32)
    assert missing["NonExistJobIds"] == "b" + "0" * 32


def test_canceling_a_batch_through_the_sdk_ends_it_canceled(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(16, 8), Key="in/a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"],
                                  Request={"Name": queue["Name"], "QueueID": queue["QueueId"], "State": "Paused"})
    try:
        job = rotate_batch(bucket)
        job["Operation"]["QueueId"] = queue["QueueId"]
        created = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=job)["JobsDetail"][0]
        cos.ci_delete_inventory_trigger_jobs(Bucket=bucket, JobId=created["JobId"])
        detail = wait_batch(cos, bucket, created["JobId"])
        assert detail["State"] == "Cancel"
    finally:
        cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"],
                                      Request={"Name": queue["Name"], "QueueID": queue["QueueId"], "State": "Active"})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda j: j.pop("Name"), "Name"),
        (lambda j: j["Input"].update({"Object": "x.png"}), "Input"),
        (lambda j: j["Operation"].update({"Tag": "Nope"}), "Tag"),
        (lambda j: j["Operation"].update({"TimeInterval": {"Start": "yesterday"}}), "TimeInterval.Start"),
        (lambda j: j["Operation"]["Output"].pop("Bucket"), "Output.Bucket"),
    ],
)
def test_a_bad_batch_request_is_refused_naming_the_field(cos: Any, bucket: str, change: Any, field: str) -> None:
    job = rotate_batch(bucket)
    change(job)
    with pytest.raises(CosServiceError) as refused:
        cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=job)
    assert refused.value.get_status_code() == 400
    assert field in refused.value.get_error_msg()
