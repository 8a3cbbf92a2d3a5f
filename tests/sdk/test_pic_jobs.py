"""Pic jobs through the official cos-python-sdk-v5, against a live server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.images import marker_png, pixel, size
from tests.support.jobs import wait_for_state
from tests.support.server import REGION


def pic_job(bucket: str, key: str, rule: str, out: str, **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "PicProcess": {"IsPicInfo": "true", "ProcessRule": rule},
        "Output": {"Region": REGION, "Bucket": bucket, "Object": out},
    }
    operation.update(extra.pop("operation", {}))
    job = {"Tag": "PicProcess", "Input": {"Object": key}, "Operation": operation}
    job.update(extra)
    return job


def submit(cos: Any, bucket: str, job: dict[str, Any]) -> str:
    response = cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})
    detail = response["JobsDetail"][0]
    assert detail["State"] == "Submitted"
    return str(detail["JobId"])


def getter(cos: Any, bucket: str) -> Any:
    return lambda job_id: cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)


def test_uploaded_image_is_really_rotated_by_a_pic_job(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/marker.png")
    job_id = submit(cos, bucket, pic_job(bucket, "in/marker.png", "imageMogr2/rotate/90", "out/rotated.png",
                                         operation={"UserData": "my data", "JobLevel": "1"}))
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    assert detail["Operation"]["UserData"] == "my data"
    assert detail["Operation"]["JobLevel"] == "1"
    assert detail["StartTime"] != "-" and detail["EndTime"] != "-"
    result = detail["Operation"]["PicProcessResult"]["UploadResult"]
    assert result["OriginalInfo"]["ImageInfo"]["Width"] == "200"
    produced = result["ProcessResults"]["Object"]
    assert (produced["Width"], produced["Height"]) == ("100", "200")
    body = cos.get_object(Bucket=bucket, Key="out/rotated.png")["Body"].get_raw_stream().read()
    assert size(body) == (100, 200)
    # Clockwise by 90 degrees: the red top-left marker is now in the top-right corner.
    assert pixel(body, 95, 5)[0] > 200 and pixel(body, 5, 5)[0] < 50
    assert produced["ETag"] == cos.head_object(Bucket=bucket, Key="out/rotated.png")["ETag"]


def test_chained_thumbnail_and_format_rule_changes_size_and_format(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(400, 200), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/thumbnail/!50p|imageMogr2/format/jpg", "b.jpg"))
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    body = cos.get_object(Bucket=bucket, Key="b.jpg")["Body"].get_raw_stream().read()
    assert body[:3] == b"\xff\xd8\xff"
    assert size(body) == (200, 100)


def test_a_failing_rule_ends_the_job_failed_with_a_code(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/twirl/90", "b.png"))
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Failed"
    assert detail["Code"] and detail["Code"] != "Success"
    assert "twirl" in detail["Message"]


def test_a_missing_input_object_ends_the_job_failed(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"x", Key="placeholder")
    job_id = submit(cos, bucket, pic_job(bucket, "nope.png", "imageMogr2/rotate/90", "b.png"))
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Failed"
    assert detail["Code"] == "InputObjectNotExist"


def test_get_lists_unknown_ids_in_nonexistjobids(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
    unknown = "c" + "0" * 32
    response = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=f"{job_id},{unknown}")
    assert [d["JobId"] for d in response["JobsDetail"]] == [job_id]
    assert response["NonExistJobIds"] == unknown


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"operation": {"JobLevel": "7"}}, "JobLevel"),
        ({"operation": {"UserData": "x" * 1025}}, "UserData"),
        ({"operation": {"UserData": "中文"}}, "UserData"),
        ({"QueueId": "p" + "1" * 32}, "QueueId"),
        ({"operation": {"TemplateId": "t1" + "2" * 32}}, "TemplateId"),
    ],
)
def test_bad_submissions_are_refused_with_a_400_naming_the_field(
    cos: Any, bucket: str, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=pic_job(bucket, "a.png", "imageMogr2/rotate/9", "b.png", **change), Lst={})
    assert caught.value.get_status_code() == 400
    assert caught.value.get_error_code() == "InvalidArgument"
    assert field in caught.value.get_error_msg()
    assert caught.value.get_request_id()


def test_missing_output_and_missing_rule_are_refused(cos: Any, bucket: str) -> None:
    job = {"Tag": "PicProcess", "Input": {"Object": "a.png"}, "Operation": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/9"}}}
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})
    assert "Output" in caught.value.get_error_msg()
    job = {"Tag": "PicProcess", "Input": {"Object": "a.png"},
           "Operation": {"Output": {"Region": REGION, "Bucket": bucket, "Object": "o.png"}}}
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})
    assert "PicProcess" in caught.value.get_error_msg()


def test_wrong_signature_is_refused_and_creates_nothing(server: Any, bucket: str) -> None:
    from qcloud_cos import CosConfig, CosS3Client

    from tests.support.server import SECRET_ID

    bad = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey="wrong", Scheme="http",
                                IP="127.0.0.1", Port=server.port), retry=0)
    with pytest.raises(CosServiceError) as caught:
        bad.ci_create_media_pic_jobs(Bucket=bucket, Jobs=pic_job(bucket, "a.png", "imageMogr2/rotate/9", "b.png"), Lst={})
    assert caught.value.get_status_code() == 403
    assert caught.value.get_error_code() == "SignatureDoesNotMatch"
    unknown = CosS3Client(CosConfig(Region=REGION, SecretId="AKIDnobody", SecretKey="x", Scheme="http",
                                    IP="127.0.0.1", Port=server.port), retry=0)
    with pytest.raises(CosServiceError) as caught:
        unknown.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess")
    assert caught.value.get_error_code() == "InvalidAccessKeyId"


def test_cancel_stops_a_queued_job_and_refuses_a_finished_one(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": queue["Name"], "State": "Paused"})
    try:
        job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
        cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
        detail = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]
        assert detail["State"] == "Cancel"
    finally:
        cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": queue["Name"], "State": "Active"})
    time.sleep(0.5)
    assert cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]["State"] == "Cancel"
    with pytest.raises(CosServiceError) as caught:
        cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    assert caught.value.get_status_code() == 400


def test_paused_queue_holds_jobs_until_resumed(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    paused = cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "held", "State": "Paused"})
    assert paused["Queue"][0]["State"] == "Paused" and paused["Queue"][0]["Name"] == "held"
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
    time.sleep(1.5)
    assert cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]["State"] == "Submitted"
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "held", "State": "Active"})
    assert wait_for_state(getter(cos, bucket), job_id)["State"] == "Success"
