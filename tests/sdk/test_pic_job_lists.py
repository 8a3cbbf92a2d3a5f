"""Listing pic jobs: pages, order, every filter of the seed, and malformed requests."""

from __future__ import annotations

import time
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_pic_jobs import pic_job, submit
from tests.support.images import marker_png
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request


def listed(response: dict[str, Any]) -> list[str]:
    return [d["JobId"] for d in response.get("JobsDetail") or []]


@pytest.fixture
def paused_bucket(cos: Any, bucket: str) -> Any:
    """A bucket whose pic queue is paused, so submitted jobs stay put while we list them."""
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "q", "State": "Paused"})
    return bucket, queue["QueueId"]


def test_pages_walk_every_job_once_newest_first(cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    ids = [submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", f"o{i}.png")) for i in range(23)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        response = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", Size=10, NextToken=token)
        page = listed(response)
        pages += 1
        seen.extend(page)
        token = response.get("NextToken") or ""
        if not token:
            break
        # A job submitted while paging shows up on no later page (the cursor is a keyset).
        if pages == 1:
            submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "late.png"))
    assert pages == 3
    assert seen == list(reversed(ids))


def test_ascending_order_and_page_size(cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    ids = [submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", f"o{i}.png")) for i in range(5)]
    response = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", OrderByTime="Asc", Size=3)
    assert listed(response) == ids[:3]
    rest = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", OrderByTime="Asc", Size=3, NextToken=response["NextToken"])
    assert listed(rest) == ids[3:]
    assert not rest.get("NextToken")


def test_states_queue_and_time_filters(cos: Any, paused_bucket: Any) -> None:
    bucket, queue_id = paused_bucket
    first = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o1.png"))
    time.sleep(1.1)
    from wanxiang.model.times import format_time, now

    middle = format_time(now())
    time.sleep(1.1)
    second = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o2.png"))
    cos.ci_cancel_jobs(Bucket=bucket, JobID=first)
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", States="Cancel")) == [first]
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", States="Submitted,Cancel")) == [second, first]
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", States="Success")) == []
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", QueueId=queue_id)) == [second, first]
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", QueueId="p" + "0" * 32)) == []
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", StartCreationTime=middle)) == [second]
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", EndCreationTime=middle)) == [first]


def test_input_object_workflow_and_batch_filters(server: RunningServer, cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="b.png")
    on_a = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o1.png"))
    on_b = submit(cos, bucket, pic_job(bucket, "b.png", "imageMogr2/rotate/90", "o2.png"))

    def ids(**params: str) -> list[str]:
        response = signed(server, "GET", "/pic_jobs", bucket, params={"tag": "PicProcess", **params})
        assert response.status_code == 200, response.text
        tree = parse_request(response.content, root="Response")
        details = tree.get("JobsDetail") or []
        return [d["JobId"] for d in (details if isinstance(details, list) else [details])]

    assert ids(inputObject="b.png") == [on_b]
    assert ids(inputObject="a.png") == [on_a]
    assert ids(workflowId="w" + "1" * 32) == []
    assert ids(inventoryTriggerJobId="b" + "1" * 32) == []
    assert ids() == [on_b, on_a]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"size": "101"}, "size"),
        ({"size": "ten"}, "size"),
        ({"orderByTime": "Sideways"}, "orderByTime"),
        ({"states": "Done"}, "states"),
        ({"startCreationTime": "yesterday"}, "startCreationTime"),
        ({"nextToken": "!!not-ours!!"}, "nextToken"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(server: RunningServer, bucket: str, params: dict[str, str], fragment: str) -> None:
    response = signed(server, "GET", "/pic_jobs", bucket, params={"tag": "PicProcess", **params})
    assert response.status_code == 400
    error = parse_request(response.content, root="Error")
    assert error["Code"] == "InvalidArgument"
    assert fragment in error["Message"]
    assert error["RequestId"] and error["Resource"]


@pytest.mark.parametrize(
    "body",
    [
        b"<Request><Tag>PicProcess</Tag><Input><Object>a.png</Object>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><Request><Tag>&x;</Tag></Request>',
        b"<Other/>",
        b"",
    ],
)
def test_malformed_xml_is_a_400_and_creates_no_job(server: RunningServer, cos: Any, bucket: str, body: bytes) -> None:
    response = signed(server, "POST", "/pic_jobs", bucket, body=body)
    assert response.status_code == 400
    error = parse_request(response.content, root="Error")
    assert error["Code"] == "MalformedXML"
    assert response.headers["x-ci-request-id"] == error["RequestId"]
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess")) == []


def test_unknown_route_and_method_never_return_a_traceback(server: RunningServer, bucket: str) -> None:
    # On the CI host every request is CI; on the COS host the same request is an object delete.
    response = signed(server, "DELETE", "/pic_jobs", bucket, headers={"Host": f"{bucket}.ci.{REGION}.myqcloud.com"})
    assert response.status_code == 405
    assert b"Traceback" not in response.content
    assert parse_request(response.content, root="Error")["Code"] == "MethodNotAllowed"


def test_jobs_path_family_reads_pic_jobs_too(cos: Any, paused_bucket: Any) -> None:
    bucket, _ = paused_bucket
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "o.png"))
    assert cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]["Tag"] == "PicProcess"
    assert listed(cos.ci_list_media_jobs(Bucket=bucket, Tag="PicProcess")) == [job_id]
    with pytest.raises(CosServiceError):
        cos.ci_cancel_jobs(Bucket=bucket, JobID="c" + "9" * 32)


def test_a_body_with_content_md5_is_checked_as_the_go_sdk_sends_it(server: RunningServer, cos: Any, paused_bucket: Any) -> None:
    import base64
    import hashlib

    bucket, _ = paused_bucket
    body = (
        "<Request><Tag>PicProcess</Tag><Input><Object>a.png</Object></Input><Operation>"
        "<PicProcess><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>"
        f"<Output><Region>ap-guangzhou</Region><Bucket>{bucket}</Bucket><Object>o.png</Object></Output>"
        "</Operation></Request>"
    ).encode()
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    wrong = base64.b64encode(hashlib.md5(body + b" ").digest()).decode()
    headers = {"Content-Type": "application/xml"}
    refused = signed(server, "POST", "/pic_jobs", bucket, body=body, headers={**headers, "Content-MD5": wrong})
    assert refused.status_code == 400 and parse_request(refused.content, root="Error")["Code"] == "BadDigest"
    assert listed(cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess")) == []
    accepted = signed(server, "POST", "/pic_jobs", bucket, body=body, headers={**headers, "Content-MD5": right})
    assert accepted.status_code == 200, accepted.text
    assert parse_request(accepted.content, root="Response")["JobsDetail"]["State"] == "Submitted"
