"""Animation jobs (video to GIF / WebP) and their templates through the official SDK."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from tests.support.jobs import wait_for_state
from tests.support.media import moving_square_mp4
from tests.support.server import REGION


def media_getter(cos: Any, bucket: str) -> Any:
    return lambda job_id: cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)


def frames(data: bytes) -> tuple[Image.Image, int]:
    image = Image.open(io.BytesIO(data))
    return image, getattr(image, "n_frames", 1)


@pytest.fixture
def video_bucket(cos: Any, bucket: str) -> str:
    cos.put_object(Bucket=bucket, Body=moving_square_mp4(), Key="in/test.mp4")
    return bucket


def test_template_animation_job_turns_a_video_into_a_gif(cos: Any, video_bucket: str) -> None:
    bucket = video_bucket
    template = cos.ci_create_template(Bucket=bucket, Template={
        "Tag": "Animation", "Name": "gif-160",
        "Container": {"Format": "gif"},
        "Video": {"Codec": "gif", "Width": "160", "Fps": "10", "AnimateFramesPerSecond": "5"},
        "TimeInterval": {"Start": "0", "Duration": "2"}})["Template"]
    assert template["TransTpl"]["Container"]["Format"] == "gif"
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Animation", "Input": {"Object": "in/test.mp4"},
        "Operation": {"TemplateId": template["TemplateId"],
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "out/${jobid}.${ext}"}}})
    job_id = response["JobsDetail"][0]["JobId"]
    assert job_id.startswith("j")
    detail = wait_for_state(media_getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    assert detail["Operation"]["TemplateName"] == "gif-160"
    output = detail["Operation"]["MediaResult"]["OutputFile"]
    assert output["ObjectName"] == f"out/{job_id}.gif"
    assert detail["Operation"]["MediaInfo"]["Stream"]["Video"]["Width"] == "320"
    gif, count = frames(cos.get_object(Bucket=bucket, Key=f"out/{job_id}.gif")["Body"].get_raw_stream().read())
    assert gif.format == "GIF" and gif.size == (160, 120)
    assert 8 <= count <= 11  # 5 frames a second for 2 s
    listed = cos.ci_list_media_jobs(Bucket=bucket, Tag="Animation")
    assert [d["JobId"] for d in listed["JobsDetail"]] == [job_id]


def test_inline_webp_animation_honours_the_time_window(cos: Any, video_bucket: str) -> None:
    bucket = video_bucket
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Animation", "Input": {"Object": "in/test.mp4"},
        "Operation": {"Animation": {"Container": {"Format": "webp"},
                                    "Video": {"Codec": "webp", "Width": "128", "Fps": "10", "Quality": "80"},
                                    "TimeInterval": {"Start": "1", "Duration": "0.5"}},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "out/clip.${ext}"}}})
    job_id = response["JobsDetail"][0]["JobId"]
    detail = wait_for_state(media_getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    webp, count = frames(cos.get_object(Bucket=bucket, Key="out/clip.webp")["Body"].get_raw_stream().read())
    assert webp.format == "WEBP" and webp.size[0] == 128
    assert 3 <= count <= 6  # half a second at 10 fps


def test_bad_animation_params_are_refused_at_submit(cos: Any, video_bucket: str) -> None:
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_jobs(Bucket=video_bucket, Lst={}, Jobs={
            "Tag": "Animation", "Input": {"Object": "in/test.mp4"},
            "Operation": {"Animation": {"Container": {"Format": "gif"}, "Video": {"Width": "5000"}},
                          "Output": {"Region": REGION, "Bucket": video_bucket, "Object": "o.gif"}}})
    assert caught.value.get_status_code() == 400 and "Width" in caught.value.get_error_msg()


def test_a_file_that_is_not_a_video_fails_the_job(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"this is text, not a video", Key="notes.mp4")
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Animation", "Input": {"Object": "notes.mp4"},
        "Operation": {"Animation": {"Container": {"Format": "gif"}},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "o.gif"}}})
    detail = wait_for_state(media_getter(cos, bucket), response["JobsDetail"][0]["JobId"])
    assert detail["State"] == "Failed" and detail["Code"] and detail["Message"]


def test_cancel_an_animation_job_waiting_in_a_paused_media_queue(cos: Any, video_bucket: str) -> None:
    bucket = video_bucket
    queue = cos.ci_get_media_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "m", "State": "Paused"})
    try:
        response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
            "Tag": "Animation", "Input": {"Object": "in/test.mp4"},
            "Operation": {"Animation": {"Container": {"Format": "gif"}},
                          "Output": {"Region": REGION, "Bucket": bucket, "Object": "o.gif"}}})
        job_id = response["JobsDetail"][0]["JobId"]
        assert response["JobsDetail"][0]["QueueId"] == queue["QueueId"]
        cos.ci_cancel_jobs(Bucket=bucket, JobID=job_id)
    finally:
        cos.ci_update_media_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "m", "State": "Active"})
    time.sleep(0.5)
    assert cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0]["State"] == "Cancel"
