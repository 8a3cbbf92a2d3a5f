"""What wanxiang does not implement says so: 501 NotImplemented with a Code and a Message naming
the feature, through the official SDK, instead of answering as if it had worked."""

from __future__ import annotations

from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.images import marker_png


def _refused(call: Any) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call()
    error = caught.value
    assert error.get_status_code() == 501, error.get_error_msg()
    assert error.get_error_code() == "NotImplemented"
    return error


def test_a_snapshot_of_an_object_is_refused_not_answered_with_the_object(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"not really a video", Key="in/clip.mp4")
    error = _refused(lambda: cos.get_snapshot(Bucket=bucket, Key="in/clip.mp4", Time="1"))
    assert "ci-process=snapshot" in error.get_error_msg()


def test_video_info_and_document_preview_are_refused(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/a.png")
    assert "videoinfo" in _refused(lambda: cos.get_media_info(Bucket=bucket, Key="in/a.png")).get_error_msg()
    doc = _refused(lambda: cos.ci_process(Bucket=bucket, Key="in/a.png", CiProcess="doc-preview"))
    assert "doc-preview" in doc.get_error_msg()


def test_content_auditing_is_refused_by_name(cos: Any, bucket: str) -> None:
    error = _refused(lambda: cos.get_object_sensitive_content_recognition(Bucket=bucket, Key="in/a.png"))
    assert "sensitive-content-recognition" in error.get_error_msg()
    error = _refused(lambda: cos.ci_auditing_text_submit(Bucket=bucket, Content=b"hello"))
    assert "text auditing" in error.get_error_msg()


def test_document_jobs_are_refused_by_name(cos: Any, bucket: str) -> None:
    error = _refused(lambda: cos.ci_list_doc_jobs(Bucket=bucket, QueueId="p1"))
    assert "doc_jobs" in error.get_error_msg()


def test_an_object_whose_key_looks_like_a_feature_is_still_stored_and_read(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"plain", Key="image/auditing/report.txt")
    assert cos.get_object(Bucket=bucket, Key="image/auditing/report.txt")["Body"].get_raw_stream().read() == b"plain"


def test_a_job_of_a_ci_tag_without_an_engine_is_refused_by_name(cos: Any, bucket: str) -> None:
    job = {"Tag": "Transcode", "Input": {"Object": "in/a.mp4"},
           "Operation": {"TemplateId": "t01", "Output": {"Region": "ap-guangzhou", "Bucket": bucket, "Object": "o.mp4"}}}
    error = _refused(lambda: cos.ci_create_media_jobs(Bucket=bucket, Jobs=job, Lst={}))
    assert "Tag Transcode" in error.get_error_msg() and "PicProcess" in error.get_error_msg()


def test_a_tag_ci_does_not_have_is_still_bad_input(cos: Any, bucket: str) -> None:
    job = {"Tag": "MakeCoffee", "Input": {"Object": "in/a.mp4"},
           "Operation": {"Output": {"Region": "ap-guangzhou", "Bucket": bucket, "Object": "o.mp4"}}}
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_jobs(Bucket=bucket, Jobs=job, Lst={})
    assert caught.value.get_status_code() == 400 and caught.value.get_error_code() == "InvalidArgument"
