"""ImageInspect (abnormal image detection) through the official SDK: jobs, AutoProcess, and the
SDK's own image-inspect workflow running on an upload."""

from __future__ import annotations

import json
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_workflows import as_list, wait_runs
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.media import transport_stream
from tests.support.raw import signed
from tests.support.server import RunningServer


def media_getter(cos: Any, bucket: str) -> Any:
    return lambda job_id: cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)


def inspect_job(cos: Any, bucket: str, key: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"ImageInspect": params} if params else {}
    response = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "ImageInspect", "Input": {"Object": key}, "Operation": operation})
    return wait_for_state(media_getter(cos, bucket), response["JobsDetail"][0]["JobId"])


def exists(cos: Any, bucket: str, key: str) -> bool:
    try:
        cos.head_object(Bucket=bucket, Key=key)
    except CosServiceError as error:
        assert error.get_status_code() == 404
        return False
    return True


def test_a_clean_image_is_reported_not_suspicious(cos: Any, bucket: str) -> None:
    picture = marker_png()
    cos.put_object(Bucket=bucket, Body=picture, Key="photos/clean.png")
    detail = inspect_job(cos, bucket, "photos/clean.png")
    assert detail["State"] == "Success", detail
    result = detail["Operation"]["ImageInspectResult"]
    assert result == {"IsSuspicious": "false", "PicSize": str(len(picture)), "PicType": "png"}


def test_a_video_hidden_behind_a_png_is_found_and_moved_to_the_backup_folder(cos: Any, bucket: str) -> None:
    picture, stream = marker_png(), transport_stream()
    cos.put_object(Bucket=bucket, Body=picture + stream, Key="photos/cat.png", ContentType="image/png",
                   Metadata={"x-cos-meta-owner": "alice"})
    detail = inspect_job(cos, bucket, "photos/cat.png", {"AutoProcess": "true", "ProcessType": "BackupObject"})
    assert detail["State"] == "Success", detail
    result = detail["Operation"]["ImageInspectResult"]
    assert result["IsSuspicious"] == "true" and result["SuspiciousType"] == "MPEG-TS"
    assert int(result["SuspiciousBeginByte"]) == len(picture)
    assert int(result["SuspiciousSize"]) == len(stream)
    assert result["ProcessResult"]["Object"] == "abnormal_images_backup/photos/cat.png"

    assert not exists(cos, bucket, "photos/cat.png")
    moved = cos.get_object(Bucket=bucket, Key="abnormal_images_backup/photos/cat.png")
    assert moved["Body"].get_raw_stream().read() == picture + stream
    assert moved["Content-Type"] == "image/png" and moved["x-cos-meta-owner"] == "alice"


def test_delete_object_removes_a_suspicious_image_and_leaves_a_clean_one(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png() + transport_stream(), Key="up/bad.png")
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="up/good.png")
    rule = {"AutoProcess": "true", "ProcessType": "DeleteObject"}
    assert inspect_job(cos, bucket, "up/bad.png", rule)["State"] == "Success"
    assert inspect_job(cos, bucket, "up/good.png", rule)["State"] == "Success"
    assert not exists(cos, bucket, "up/bad.png")
    assert exists(cos, bucket, "up/good.png")


def test_a_file_that_is_no_image_fails_the_job_with_a_code(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"just some text\n" * 50, Key="notes.txt")
    detail = inspect_job(cos, bucket, "notes.txt")
    assert detail["State"] == "Failed"
    assert detail["Code"] == "InvalidInput" and "not a JPEG" in detail["Message"]


def test_an_unknown_process_type_is_refused_at_submit(cos: Any, bucket: str) -> None:
    with pytest.raises(CosServiceError) as refused:
        cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
            "Tag": "ImageInspect", "Input": {"Object": "a.png"},
            "Operation": {"ImageInspect": {"ProcessType": "Shred"}}})
    assert refused.value.get_status_code() == 400
    assert "ProcessType" in refused.value.get_error_msg()


def test_the_sdks_image_inspect_workflow_moves_abnormal_uploads(cos: Any, bucket: str) -> None:
    """ut/test.py test_ci_workflow's topology, Active: uploads under test are inspected."""
    body = {"MediaWorkflow": {"Name": "image-inspect", "State": "Active", "Topology": {
        "Dependencies": {"Start": "ImageInspectNode", "ImageInspectNode": "End"},
        "Nodes": {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "test",
                                                 "ExtFilter": {"State": "On", "Image": "true"}}},
            "ImageInspectNode": {"Type": "ImageInspect", "Operation": {
                "ImageInspect": {"AutoProcess": "true", "ProcessType": "BackupObject"}}},
        }}}}
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=body, ContentType="application/xml")[
        "MediaWorkflow"]["WorkflowId"]
    cos.put_object(Bucket=bucket, Body=marker_png() + transport_stream(), Key="test/upload.png")
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="test/fine.png")

    runs = wait_runs(cos, bucket, workflow_id, 2)
    assert sorted((r["Object"], r["State"]) for r in runs) == [("test/fine.png", "Success"),
                                                              ("test/upload.png", "Success")]
    run = next(r for r in runs if r["Object"] == "test/upload.png")
    detail = cos.ci_get_workflowexecution(Bucket=bucket, RunId=run["RunId"])["WorkflowExecution"][0]
    task = as_list(detail["Tasks"])[0]
    assert task["Type"] == "ImageInspect" and task["State"] == "Success"
    assert not exists(cos, bucket, "test/upload.png")
    assert exists(cos, bucket, "abnormal_images_backup/test/upload.png")
    assert exists(cos, bucket, "test/fine.png")


def test_the_synchronous_inspect_answers_cis_json_for_both_spellings(
    cos: Any, bucket: str, server: RunningServer
) -> None:
    picture, stream = marker_png(), transport_stream()
    cos.put_object(Bucket=bucket, Body=picture + stream, Key="sync/hidden.png")
    cos.put_object(Bucket=bucket, Body=picture, Key="sync/clean.png")

    _, data = cos.ci_image_inspect(Bucket=bucket, Key="sync/hidden.png")
    assert json.loads(data) == {
        "picSize": len(picture) + len(stream), "picType": "png", "suspicious": True,
        "suspiciousBeginByte": len(picture), "suspiciousEndByte": len(picture) + len(stream) - 1,
        "suspiciousSize": len(stream), "suspiciousType": "MPEG-TS",
    }
    answer = signed(server, "GET", "/sync/clean.png", bucket, params={"ci-process": "ImageInspect"})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"picSize": len(picture), "picType": "png", "suspicious": False}


def test_inspecting_a_missing_or_non_image_object_is_a_ci_error(cos: Any, bucket: str) -> None:
    with pytest.raises(CosServiceError) as missing:
        cos.ci_image_inspect(Bucket=bucket, Key="sync/none.png")
    assert missing.value.get_status_code() == 404
    cos.put_object(Bucket=bucket, Body=b"plain text " * 10, Key="sync/notes.txt")
    with pytest.raises(CosServiceError) as refused:
        cos.ci_image_inspect(Bucket=bucket, Key="sync/notes.txt")
    assert refused.value.get_status_code() == 400 and refused.value.get_error_code() == "InvalidInput"
