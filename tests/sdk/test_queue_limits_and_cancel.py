"""Through the official SDK: cancelling a Running job, and the queue limits a user sets
(MaxConcurrent across workers, MaxSize at submit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import sdk_client
from tests.sdk.test_animation_jobs import media_getter
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.media import moving_square_mp4
from tests.support.server import REGION, RunningServer

FINISHED = ("Success", "Failed", "Cancel")


@pytest.fixture
def worker_cos(mq_server: RunningServer) -> Any:
    """A server with 2 workers whose leases are renewed every second."""
    return sdk_client(mq_server)


def animation(cos: Any, bucket: str, key: str, out: str, width: int) -> str:
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Animation", "Input": {"Object": key},
        "Operation": {"Animation": {"Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Width": str(width), "Fps": "25"}},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": out}}})
    return str(response["JobsDetail"][0]["JobId"])


def ci_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def test_a_running_animation_cancelled_mid_way_ends_cancel_with_no_output(worker_cos: Any, bucket: str) -> None:
    cos = worker_cos
    # Ten seconds of video drawn four times larger as a GIF: several seconds of work.
    cos.put_object(Bucket=bucket, Body=moving_square_mp4(seconds=10), Key="in/long.mp4")
    job_id = animation(cos, bucket, "in/long.mp4", "out/long.gif", 960)
    running = wait_for_state(media_getter(cos, bucket), job_id, ("Running", *FINISHED))
    assert running["State"] == "Running", running
    cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    ended = wait_for_state(media_getter(cos, bucket), job_id, FINISHED)
    assert ended["State"] == "Cancel", ended
    assert ended["Code"] == "Cancel"
    with pytest.raises(CosServiceError) as caught:
        cos.head_object(Bucket=bucket, Key="out/long.gif")
    assert caught.value.get_status_code() == 404
    # A finished job cannot be cancelled again: the answer names its state.
    with pytest.raises(CosServiceError) as again:
        cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    assert again.value.get_status_code() == 400 and "Cancel" in again.value.get_error_msg()


def test_a_job_that_finished_before_the_cancel_keeps_its_result(worker_cos: Any, bucket: str) -> None:
    cos = worker_cos
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
    assert wait_for_state(getter(cos, bucket), job_id)["State"] == "Success"
    with pytest.raises(CosServiceError) as caught:
        cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    assert caught.value.get_status_code() == 400 and "Success" in caught.value.get_error_msg()
    assert cos.head_object(Bucket=bucket, Key="b.png")["Content-Length"] != "0"


def test_with_max_concurrent_1_two_workers_run_one_job_of_the_queue_at_a_time(worker_cos: Any, bucket: str) -> None:
    cos = worker_cos
    cos.put_object(Bucket=bucket, Body=moving_square_mp4(seconds=4), Key="in/clip.mp4")
    queue = cos.ci_get_media_queue(Bucket=bucket)["QueueList"][0]
    assert queue["MaxConcurrent"] == "10"  # reported, not enforced until a user sets it
    updated = cos.ci_update_media_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
        "Name": queue["Name"], "State": "Active", "MaxConcurrent": "1"})
    assert updated["Queue"][0]["MaxConcurrent"] == "1"
    jobs = [animation(cos, bucket, "in/clip.mp4", f"out/{n}.gif", 640) for n in range(3)]
    details = [wait_for_state(media_getter(cos, bucket), job_id, FINISHED, timeout=180) for job_id in jobs]
    assert [d["State"] for d in details] == ["Success"] * 3
    spans = sorted((ci_time(d["StartTime"]), ci_time(d["EndTime"])) for d in details)
    for (_, earlier_end), (later_start, _) in zip(spans, spans[1:], strict=False):
        assert later_start >= earlier_end, spans


def test_max_size_refuses_a_submit_beyond_the_queued_jobs_it_allows(worker_cos: Any, bucket: str) -> None:
    cos = worker_cos
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    held = cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
        "Name": queue["Name"], "State": "Paused", "MaxSize": "2"})
    assert held["Queue"][0]["MaxSize"] == "2"
    try:
        queued = [submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", f"{n}.png")) for n in range(2)]
        with pytest.raises(CosServiceError) as caught:
            submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "3.png"))
        assert caught.value.get_status_code() == 400 and "MaxSize" in caught.value.get_error_msg()
        with pytest.raises(CosServiceError) as bad:
            cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
                "Name": queue["Name"], "State": "Paused", "MaxSize": "0"})
        assert bad.value.get_status_code() == 400 and "MaxSize" in bad.value.get_error_msg()
    finally:
        cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
            "Name": queue["Name"], "State": "Active"})
    for job_id in queued:
        assert wait_for_state(getter(cos, bucket), job_id)["State"] == "Success"
    listed = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess")["JobsDetail"]
    assert len(listed) == 2
