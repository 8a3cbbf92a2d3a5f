"""Big objects the way the SDK uploads them: multipart (upload_file), copy, abort, and what follows an upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_animation_jobs import media_getter
from tests.sdk.test_workflows import media_workflow, wait_runs
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.media import moving_square_mp4
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request

MB = 1 << 20


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def multipart_etag(data: bytes, part_size: int) -> str:
    md5s = b"".join(hashlib.md5(data[i : i + part_size]).digest() for i in range(0, len(data), part_size))
    return f'"{hashlib.md5(md5s).hexdigest()}-{(len(data) + part_size - 1) // part_size}"'


def test_upload_file_of_25_mb_in_threads_downloads_byte_equal(cos: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(25 * MB + 12345)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    cos.upload_file(Bucket=bucket, Key="videos/big.bin", LocalFilePath=str(source), PartSize=2, MAXThread=4,
                    ContentType="video/mp4", CacheControl="max-age=600", Metadata={"x-cos-meta-camera": "front"})
    head = cos.head_object(Bucket=bucket, Key="videos/big.bin")
    assert head["Content-Length"] == str(len(data))
    assert head["ETag"] == multipart_etag(data, 2 * MB)
    assert (head["Content-Type"], head["Cache-Control"], head["x-cos-meta-camera"]) == ("video/mp4", "max-age=600", "front")
    target = tmp_path / "back.bin"
    cos.download_file(Bucket=bucket, Key="videos/big.bin", DestFilePath=str(target), PartSize=4, MAXThread=4)
    assert hashlib.md5(target.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    assert cos.list_multipart_uploads(Bucket=bucket).get("Upload") is None


def test_a_multipart_object_is_copied_whole_and_by_part_copy(cos: Any, bucket: str) -> None:
    data = os.urandom(3 * MB + 7)
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="src/clip.bin", ContentType="video/mp4")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), MB), start=1):
        answer = cos.upload_part(Bucket=bucket, Key="src/clip.bin", Body=data[start : start + MB], PartNumber=number,
                                 UploadId=upload_id, EnableMD5=True)
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    done = cos.complete_multipart_upload(Bucket=bucket, Key="src/clip.bin", UploadId=upload_id,
                                         MultipartUpload={"Part": parts})
    assert done["Key"] == "src/clip.bin" and done["ETag"] == multipart_etag(data, MB)

    source = {"Bucket": bucket, "Key": "src/clip.bin", "Region": REGION}
    other = bucket.replace("-", "x-", 1)
    cos.create_bucket(Bucket=other)
    copied = cos.copy_object(Bucket=other, Key="dst/clip.bin", CopySource=source)
    assert copied["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = cos.get_object(Bucket=other, Key="dst/clip.bin")
    assert got["Body"].get_raw_stream().read() == data and got["Content-Type"] == "video/mp4"

    # What the SDK's copy() does for big objects: upload part copy, range by range.
    copy_id = cos.create_multipart_upload(Bucket=bucket, Key="dst/parts.bin")["UploadId"]
    copy_parts = []
    for number, (first, last) in enumerate([(0, 2 * MB - 1), (2 * MB, len(data) - 1)], start=1):
        answer = cos.upload_part_copy(Bucket=bucket, Key="dst/parts.bin", PartNumber=number, UploadId=copy_id,
                                      CopySource=source, CopySourceRange=f"bytes={first}-{last}")
        assert answer["ETag"] == f'"{hashlib.md5(data[first : last + 1]).hexdigest()}"'
        copy_parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    cos.complete_multipart_upload(Bucket=bucket, Key="dst/parts.bin", UploadId=copy_id, MultipartUpload={"Part": copy_parts})
    assert cos.get_object(Bucket=bucket, Key="dst/parts.bin")["Body"].get_raw_stream().read() == data


def test_an_aborted_upload_is_gone_from_the_list(cos: Any, bucket: str) -> None:
    kept = cos.create_multipart_upload(Bucket=bucket, Key="a/kept.bin")["UploadId"]
    dropped = cos.create_multipart_upload(Bucket=bucket, Key="a/dropped.bin")["UploadId"]
    cos.upload_part(Bucket=bucket, Key="a/dropped.bin", Body=b"x" * 100, PartNumber=1, UploadId=dropped)
    listed = cos.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert sorted(u["UploadId"] for u in as_list(listed["Upload"])) == sorted([kept, dropped])
    assert cos.list_parts(Bucket=bucket, Key="a/dropped.bin", UploadId=dropped)["Part"][0]["Size"] == "100"
    cos.abort_multipart_upload(Bucket=bucket, Key="a/dropped.bin", UploadId=dropped)
    listed = cos.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert [u["UploadId"] for u in as_list(listed["Upload"])] == [kept]
    with pytest.raises(CosServiceError) as gone:
        cos.list_parts(Bucket=bucket, Key="a/dropped.bin", UploadId=dropped)
    assert (gone.value.get_status_code(), gone.value.get_error_code()) == (404, "NoSuchUpload")
    assert not cos.object_exists(Bucket=bucket, Key="a/dropped.bin")


def test_completion_refuses_wrong_parts_and_keeps_the_upload(cos: Any, bucket: str) -> None:
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="k.bin")["UploadId"]
    small = cos.upload_part(Bucket=bucket, Key="k.bin", Body=b"small", PartNumber=1, UploadId=upload_id)["ETag"]
    last = cos.upload_part(Bucket=bucket, Key="k.bin", Body=b"last", PartNumber=2, UploadId=upload_id)["ETag"]
    for parts, code in [
        ([{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}], "InvalidPart"),
        ([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}], "InvalidPartOrder"),
        ([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}], "EntityTooSmall"),
    ]:
        with pytest.raises(CosServiceError) as refused:
            cos.complete_multipart_upload(Bucket=bucket, Key="k.bin", UploadId=upload_id, MultipartUpload={"Part": parts})
        assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, code)
    with pytest.raises(CosServiceError) as bad_md5:
        cos.upload_part(Bucket=bucket, Key="k.bin", Body=b"x", PartNumber=3, UploadId=upload_id,
                        ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert bad_md5.value.get_error_code() == "BadDigest"
    assert not cos.object_exists(Bucket=bucket, Key="k.bin")
    assert as_list(cos.list_multipart_uploads(Bucket=bucket)["Upload"])[0]["UploadId"] == upload_id


def mp4_over(size: int) -> bytes:
    """A real clip followed by an MP4 ``free`` box, so it spans more than one 1 MB part."""
    clip = moving_square_mp4()
    padding = size - len(clip)
    return clip + struct.pack(">I", padding) + b"free" + bytes(padding - 8)


def test_animation_job_runs_on_a_multipart_uploaded_video(cos: Any, bucket: str, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(mp4_over(2 * MB + 100))
    cos.upload_file(Bucket=bucket, Key="in/clip.mp4", LocalFilePath=str(video), PartSize=1, MAXThread=3)
    assert cos.head_object(Bucket=bucket, Key="in/clip.mp4")["ETag"].endswith('-3"')
    job_id = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
        "Tag": "Animation", "Input": {"Object": "in/clip.mp4"},
        "Operation": {"Animation": {"Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Width": "128", "Fps": "5"},
                                    "TimeInterval": {"Start": "0", "Duration": "1"}},
                      "Output": {"Region": REGION, "Bucket": bucket, "Object": "out/clip.gif"}}})["JobsDetail"][0]["JobId"]
    detail = wait_for_state(media_getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    gif = Image.open(io.BytesIO(cos.get_object(Bucket=bucket, Key="out/clip.gif")["Body"].get_raw_stream().read()))
    assert gif.format == "GIF" and gif.size == (128, 96)


def test_pic_operations_given_on_initiate_run_on_complete(cos: Any, bucket: str) -> None:
    rules = {"is_pic_info": 1, "rules": [{"fileid": "/thumbs/half.png", "rule": "imageMogr2/thumbnail/200x"}]}
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="photos/big.png", ContentType="image/png",
                                            PicOperations=json.dumps(rules))["UploadId"]
    etag = cos.upload_part(Bucket=bucket, Key="photos/big.png", Body=marker_png(400, 200), PartNumber=1,
                           UploadId=upload_id)["ETag"]
    result = cos.complete_multipart_upload(Bucket=bucket, Key="photos/big.png", UploadId=upload_id,
                                           MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag}]})
    assert result["ProcessResults"]["Object"]["Key"] == "thumbs/half.png"
    thumb = cos.get_object(Bucket=bucket, Key="thumbs/half.png")["Body"].get_raw_stream().read()
    assert Image.open(io.BytesIO(thumb)).size == (200, 100)


def test_pic_operations_that_cannot_run_are_refused_at_initiate(cos: Any, bucket: str) -> None:
    with pytest.raises(CosServiceError) as refused:
        cos.create_multipart_upload(Bucket=bucket, Key="p.png", PicOperations="{not json")
    assert refused.value.get_status_code() == 400
    assert cos.list_multipart_uploads(Bucket=bucket).get("Upload") is None


def test_completing_an_upload_under_a_workflow_prefix_starts_a_run(cos: Any, bucket: str) -> None:
    body = media_workflow(cos, bucket, prefix="in/", output="out/${InputName}.png", state="Active")
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="in/photo.png")["UploadId"]
    etag = cos.upload_part(Bucket=bucket, Key="in/photo.png", Body=marker_png(200, 100), PartNumber=1,
                           UploadId=upload_id)["ETag"]
    cos.complete_multipart_upload(Bucket=bucket, Key="in/photo.png", UploadId=upload_id,
                                  MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag}]})
    runs = wait_runs(cos, bucket, workflow_id, 1)
    assert runs[0]["State"] == "Success", runs
    thumb = cos.get_object(Bucket=bucket, Key="out/photo.png")["Body"].get_raw_stream().read()
    assert Image.open(io.BytesIO(thumb)).size == (50, 25)


def test_list_uploads_pages_with_markers_and_folds_by_delimiter(server: RunningServer, cos: Any, bucket: str) -> None:
    ids = {key: cos.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in ["a/1", "a/2", "b", "c/x/y"]}
    first = cos.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert [u["Key"] for u in as_list(first["Upload"])] == ["a/1", "a/2"] and first["IsTruncated"] == "true"
    rest = cos.list_multipart_uploads(Bucket=bucket, KeyMarker=first["NextKeyMarker"],
                                      UploadIdMarker=first["NextUploadIdMarker"])
    assert [u["Key"] for u in as_list(rest["Upload"])] == ["b", "c/x/y"]
    folded = cos.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["UploadId"] for u in as_list(folded["Upload"])] == [ids["b"]]
    assert [p["Prefix"] for p in as_list(folded["CommonPrefixes"])] == ["a/", "c/"]
    listing = signed(server, "GET", "/", bucket, params={"uploads": "", "prefix": "c/"})
    assert parse_request(listing.content, root="ListMultipartUploadsResult")["Upload"]["Key"] == "c/x/y"


def test_upload_file_resumes_an_interrupted_upload(cos: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(3 * MB + 5)
    source = tmp_path / "resume.bin"
    source.write_bytes(data)
    # An earlier run sent the first two parts, then stopped.
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="resume.bin")["UploadId"]
    for number in (1, 2):
        cos.upload_part(Bucket=bucket, Key="resume.bin", Body=data[(number - 1) * MB : number * MB],
                        PartNumber=number, UploadId=upload_id)
    cos.upload_file(Bucket=bucket, Key="resume.bin", LocalFilePath=str(source), PartSize=1, MAXThread=2)
    # The SDK found the upload through list_multipart_uploads + list_parts and finished it.
    assert cos.list_multipart_uploads(Bucket=bucket).get("Upload") is None
    assert cos.get_object(Bucket=bucket, Key="resume.bin")["Body"].get_raw_stream().read() == data
