"""The COS object API through the official SDK: what a user of put/get/list expects."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.raw import raw_path_request, signed
from tests.support.server import RunningServer
from wanxiang.wire.xml import parse_request


def test_put_get_keeps_bytes_etag_type_and_metadata(cos: Any, bucket: str) -> None:
    body = b"hello wanxiang " * 1000
    put = cos.put_object(Bucket=bucket, Body=body, Key="docs/hello.txt", ContentType="text/plain",
                         Metadata={"x-cos-meta-author": "lin"})
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = cos.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert got["Body"].get_raw_stream().read() == body
    assert got["Content-Type"] == "text/plain"
    assert got["x-cos-meta-author"] == "lin"
    head = cos.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert head["Content-Length"] == str(len(body)) and head["ETag"] == put["ETag"]


def test_range_reads_return_the_requested_bytes(cos: Any, bucket: str) -> None:
    body = bytes(range(256)) * 4
    cos.put_object(Bucket=bucket, Body=body, Key="r.bin")
    assert cos.get_object(Bucket=bucket, Key="r.bin", Range="bytes=10-19")["Body"].get_raw_stream().read() == body[10:20]
    assert cos.get_object(Bucket=bucket, Key="r.bin", Range="bytes=-5")["Body"].get_raw_stream().read() == body[-5:]
    with pytest.raises(CosServiceError) as caught:
        cos.get_object(Bucket=bucket, Key="r.bin", Range="bytes=5000-6000")
    assert caught.value.get_status_code() == 416


def test_listing_with_prefix_delimiter_and_pages(cos: Any, bucket: str) -> None:
    for key in ["a/1.jpg", "a/2.jpg", "a/sub/3.jpg", "b/4.jpg", "top.txt"]:
        cos.put_object(Bucket=bucket, Body=b"x", Key=key)
    listing = cos.list_objects(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["a/", "b/"]
    assert [c["Key"] for c in (listing["Contents"] if isinstance(listing["Contents"], list) else [listing["Contents"]])] == ["top.txt"]
    under_a = cos.list_objects(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [c["Key"] for c in under_a["Contents"]] == ["a/1.jpg", "a/2.jpg"]
    first = cos.list_objects(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] == "true" and [c["Key"] for c in first["Contents"]] == ["a/1.jpg", "a/2.jpg"]
    rest = cos.list_objects(Bucket=bucket, Marker=first["NextMarker"])
    assert [c["Key"] for c in rest["Contents"]] == ["a/sub/3.jpg", "b/4.jpg", "top.txt"]


def test_delete_then_head_is_404(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"x", Key="gone.txt")
    cos.delete_object(Bucket=bucket, Key="gone.txt")
    with pytest.raises(CosServiceError) as caught:
        cos.head_object(Bucket=bucket, Key="gone.txt")
    assert caught.value.get_status_code() == 404
    with pytest.raises(CosServiceError) as caught:
        cos.get_object(Bucket=bucket, Key="gone.txt")
    assert caught.value.get_error_code() == "NoSuchKey"


def test_create_and_head_bucket(cos: Any, bucket: str) -> None:
    cos.create_bucket(Bucket=bucket)
    assert cos.bucket_exists(Bucket=bucket)
    with pytest.raises(CosServiceError) as caught:
        cos.create_bucket(Bucket=bucket)
    assert caught.value.get_status_code() == 409


@pytest.mark.parametrize("raw_path", ["/../../etc/passwd", "/a/../../../x", "/a/%00b", "/%2E%2E/%2E%2E/x"])
def test_keys_that_could_escape_the_data_dir_are_refused(server: RunningServer, bucket: str, raw_path: str) -> None:
    status, body = raw_path_request(server, "PUT", raw_path, bucket, body=b"evil")
    assert status == 400, body
    error = parse_request(body, root="Error")
    assert error["Code"] in ("InvalidURI", "InvalidArgument")
    assert not list(server.data_dir.parent.rglob("passwd"))


def test_a_wrong_content_md5_is_refused_and_nothing_is_stored(cos: Any, server: RunningServer, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"x", Key="keep")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    response = signed(server, "PUT", "/checked.txt", bucket, body=b"payload", headers={"Content-MD5": wrong})
    assert response.status_code == 400
    assert parse_request(response.content, root="Error")["Code"] == "BadDigest"
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="checked.txt")


def test_every_queue_family_is_listed_with_its_default_queue(cos: Any, bucket: str) -> None:
    pic = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    media = cos.ci_get_media_queue(Bucket=bucket)["QueueList"][0]
    ai = cos.ci_get_ai_queue(Bucket=bucket)["QueueList"][0]
    asr = cos.ci_get_asr_queue(Bucket=bucket)["QueueList"]
    asr = asr[0] if isinstance(asr, list) else asr
    ids = {pic["QueueId"], media["QueueId"], ai["QueueId"], asr["QueueId"]}
    assert len(ids) == 4 and all(i.startswith("p") for i in ids)
    assert pic["Category"] == "PicProcessing" and media["Category"] == "Transcoding"
    response = cos.ci_get_media_pic_queue(Bucket=bucket, QueueIds=pic["QueueId"] + ",p" + "0" * 32)
    assert response["NonExistPIDs"] == "p" + "0" * 32


def test_keys_with_backslashes_are_stored_as_cos_stores_them(cos: Any, bucket: str) -> None:
    for key in ["win\\path\\photo.jpg", "..\\..\\etc\\passwd", "a\\"]:
        cos.put_object(Bucket=bucket, Body=key.encode(), Key=key)
        assert cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read() == key.encode()
    listed = cos.list_objects(Bucket=bucket)["Contents"]
    assert sorted(c["Key"] for c in listed) == sorted(["win\\path\\photo.jpg", "..\\..\\etc\\passwd", "a\\"])
