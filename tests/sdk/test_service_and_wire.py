"""Service buckets (open, close, list with filters) and small wire details the seeds pin down."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.test_batches import rotate_batch
from tests.sdk.test_pic_job_lists import listed
from tests.sdk.test_pic_jobs import pic_job, submit
from tests.support.images import marker_png
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request


@pytest.fixture
def paused_bucket(cos: Any, bucket: str) -> tuple[str, str]:
    """A bucket whose pic queue is paused, so submitted jobs stay as they were submitted."""
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "q", "State": "Paused"})
    return bucket, queue["QueueId"]


def ci(server: RunningServer, method: str, path: str, bucket: str, **kwargs: Any) -> dict[str, Any]:
    headers = {"Host": f"{bucket}.ci.{REGION}.myqcloud.com", **kwargs.pop("headers", {})}
    response = signed(server, method, path, bucket, headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    return parse_request(response.content, root="Response")


def test_a_service_opens_closes_and_lists_by_filter(server: RunningServer, cos: Any, bucket: str) -> None:
    opened = ci(server, "POST", "/ai_bucket", bucket)["AiBucket"]
    assert (opened["BucketId"], opened["Name"], opened["Region"]) == (bucket, bucket, REGION)
    other = bucket.replace("-", "o-", 1)
    ci(server, "POST", "/ai_bucket", other)
    mine = cos.ci_get_ai_bucket(BucketNames=bucket)
    assert (mine["TotalCount"], mine["AiBucketList"]["BucketId"]) == ("1", bucket)
    both = cos.ci_get_ai_bucket(BucketNames=f"{bucket},{other}", PageSize="1", PageNumber="2")
    assert (both["TotalCount"], both["PageNumber"], both["PageSize"]) == ("2", "2", "1")
    assert cos.ci_get_ai_bucket(BucketNames=bucket, Regions="ap-beijing")["TotalCount"] == "0"
    assert cos.ci_get_ai_bucket(BucketName=bucket[:6], Regions=REGION)["TotalCount"] != "0"

    closed = ci(server, "DELETE", "/ai_bucket", bucket)
    assert closed["BucketName"] == bucket and "AiBucket" not in closed
    assert cos.ci_get_ai_bucket(BucketNames=bucket)["TotalCount"] == "0"
    assert cos.ci_get_ai_bucket(BucketNames=other)["TotalCount"] == "1"
    # Closing the AI service leaves the others (and their queues) alone; opening again restores it.
    assert "QueueList" in cos.ci_get_media_pic_queue(Bucket=bucket)
    assert "QueueList" not in cos.ci_get_ai_queue(Bucket=bucket)
    ci(server, "POST", "/ai_bucket", bucket)
    assert cos.ci_get_ai_bucket(BucketNames=bucket)["TotalCount"] == "1"
    assert "QueueList" in cos.ci_get_ai_queue(Bucket=bucket)


def test_end_creation_time_covers_its_whole_second_on_every_list(cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o.png"))
    created = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]["CreationTime"]
    for list_jobs in (cos.ci_list_media_pic_jobs, cos.ci_list_media_jobs):
        assert listed(list_jobs(Bucket=bucket, Tag="PicProcess", EndCreationTime=created)) == [job_id]
        assert listed(list_jobs(Bucket=bucket, Tag="PicProcess", StartCreationTime=created, EndCreationTime=created)) == [job_id]
    batch = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=rotate_batch(bucket))["JobsDetail"][0]
    batches = cos.ci_list_inventory_trigger_jobs(Bucket=bucket, Type="Job", EndCreationTime=batch["CreationTime"])
    assert [d["JobId"] for d in as_list(batches["JobsDetail"])] == [batch["JobId"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_user_data_keeps_its_spaces_and_input_names_its_bucket(server: RunningServer, cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o.png",
                                         operation={"UserData": "  padded value  "}))
    detail = ci(server, "GET", f"/pic_jobs/{job_id}", bucket)["JobsDetail"]
    assert detail["Operation"]["UserData"] == "  padded value  "
    assert detail["Input"]["Bucket"] == detail["Input"]["BucketId"] == bucket


def test_a_queue_is_updated_by_post_as_the_node_docs_do(server: RunningServer, cos: Any, bucket: str) -> None:
    for family, list_queues in [("picqueue", cos.ci_get_media_pic_queue), ("queue", cos.ci_get_media_queue)]:
        queue_id = list_queues(Bucket=bucket)["QueueList"][0]["QueueId"]
        body = f"<Request><Name>renamed-{family}</Name><State>Active</State></Request>".encode()
        updated = ci(server, "POST", f"/{family}/{queue_id}", bucket, body=body)
        assert updated["Queue"]["Name"] == f"renamed-{family}"
        assert list_queues(Bucket=bucket)["QueueList"][0]["Name"] == f"renamed-{family}"
