"""Standard object headers, response overrides, conditional GETs, batch delete and DELETE bucket."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.support.raw import signed
from tests.support.server import REGION, RunningServer


def status_of(call: Any) -> int:
    with pytest.raises(CosServiceError) as refused:
        call()
    return int(refused.value.get_status_code())


def test_standard_headers_are_stored_and_returned(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Key="report.pdf", Body=b"%PDF-1.4", ContentType="application/pdf",
                   CacheControl="no-cache", ContentDisposition='attachment; filename="r.pdf"',
                   ContentEncoding="identity", ContentLanguage="zh-CN", Expires="Thu, 01 Jan 2037 00:00:00 GMT")
    for answer in (cos.get_object(Bucket=bucket, Key="report.pdf"), cos.head_object(Bucket=bucket, Key="report.pdf")):
        assert answer["Cache-Control"] == "no-cache"
        assert answer["Content-Disposition"] == 'attachment; filename="r.pdf"'
        assert answer["Content-Encoding"] == "identity"
        assert answer["Content-Language"] == "zh-CN"
        assert answer["Expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"


def test_response_overrides_change_one_answer_only(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Key="a.bin", Body=b"abc", ContentType="application/octet-stream")
    got = cos.get_object(Bucket=bucket, Key="a.bin", ResponseContentType="image/png",
                         ResponseContentDisposition="inline", ResponseCacheControl="max-age=5",
                         ResponseContentLanguage="en", ResponseExpires="Fri, 01 Jan 2038 00:00:00 GMT",
                         ResponseContentEncoding="identity")
    assert got["Body"].get_raw_stream().read() == b"abc"
    assert (got["Content-Type"], got["Content-Disposition"], got["Cache-Control"]) == ("image/png", "inline", "max-age=5")
    assert (got["Content-Language"], got["Expires"]) == ("en", "Fri, 01 Jan 2038 00:00:00 GMT")
    assert cos.head_object(Bucket=bucket, Key="a.bin")["Content-Type"] == "application/octet-stream"


def test_conditional_requests_answer_304_and_412(server: RunningServer, cos: Any, bucket: str) -> None:
    etag = cos.put_object(Bucket=bucket, Key="c.txt", Body=b"v1")["ETag"]
    other = '"' + hashlib.md5(b"other").hexdigest() + '"'
    past = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    future = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    assert cos.get_object(Bucket=bucket, Key="c.txt", IfMatch=etag)["Body"].get_raw_stream().read() == b"v1"
    assert cos.get_object(Bucket=bucket, Key="c.txt", IfNoneMatch=other)["ETag"] == etag
    assert cos.get_object(Bucket=bucket, Key="c.txt", IfModifiedSince=past)["ETag"] == etag
    # The SDK hands a 304 back as an (empty) answer, so look at the wire.
    for method, condition in [("GET", {"If-None-Match": etag}), ("GET", {"If-Modified-Since": future}),
                              ("HEAD", {"If-None-Match": f'"x", {etag}'})]:
        answer = signed(server, method, "/c.txt", bucket, headers=condition)
        assert (answer.status_code, answer.content, answer.headers["ETag"]) == (304, b"", etag)
    assert status_of(lambda: cos.get_object(Bucket=bucket, Key="c.txt", IfMatch=other)) == 412
    assert status_of(lambda: cos.get_object(Bucket=bucket, Key="c.txt", IfUnmodifiedSince=past)) == 412
    assert status_of(lambda: cos.head_object(Bucket=bucket, Key="c.txt", IfMatch=other)) == 412


def test_copy_replaces_metadata_when_asked(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Key="s.txt", Body=b"text", ContentType="text/plain", Metadata={"x-cos-meta-v": "1"})
    source = {"Bucket": bucket, "Key": "s.txt", "Region": REGION}
    cos.copy_object(Bucket=bucket, Key="kept.txt", CopySource=source)
    kept = cos.head_object(Bucket=bucket, Key="kept.txt")
    assert (kept["Content-Type"], kept["x-cos-meta-v"]) == ("text/plain", "1")
    cos.copy_object(Bucket=bucket, Key="s.txt", CopySource=source, CopyStatus="Replaced",
                    ContentType="text/markdown", Metadata={"x-cos-meta-v": "2"})
    replaced = cos.head_object(Bucket=bucket, Key="s.txt")
    assert (replaced["Content-Type"], replaced["x-cos-meta-v"]) == ("text/markdown", "2")
    assert status_of(lambda: cos.copy_object(Bucket=bucket, Key="x", CopySource={**source, "Key": "nope"})) == 404


def test_delete_objects_in_one_call_quiet_and_verbose(cos: Any, bucket: str) -> None:
    for key in ["a", "b/c", "d ", "e"]:
        cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    answer = cos.delete_objects(Bucket=bucket, Delete={"Object": [{"Key": "a"}, {"Key": "b/c"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "b/c", "missing"]
    quiet = cos.delete_objects(Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": "d "}]})
    assert "Deleted" not in quiet
    assert [c["Key"] for c in cos.list_objects(Bucket=bucket)["Contents"]] == ["e"]


def test_delete_bucket_only_when_empty(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Key="last.txt", Body=b"x")
    with pytest.raises(CosServiceError) as refused:
        cos.delete_bucket(Bucket=bucket)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (409, "BucketNotEmpty")
    cos.delete_object(Bucket=bucket, Key="last.txt")
    cos.delete_bucket(Bucket=bucket)
    assert not cos.bucket_exists(Bucket=bucket)
    assert status_of(lambda: cos.delete_bucket(Bucket=bucket)) == 404


def test_bad_copy_sources_and_part_numbers_are_clear_errors(server: RunningServer, bucket: str) -> None:
    signed(server, "PUT", "/x", bucket, body=b"x")
    bad_source = signed(server, "PUT", "/y", bucket, headers={"x-cos-copy-source": "no-slash"})
    assert bad_source.status_code == 400 and b"<Code>InvalidArgument</Code>" in bad_source.content
    bad_part = signed(server, "PUT", "/y", bucket, params={"partNumber": "0", "uploadId": "0" * 32}, body=b"x")
    assert bad_part.status_code == 400
    unknown = signed(server, "PUT", "/y", bucket, params={"partNumber": "1", "uploadId": "0" * 32}, body=b"x")
    assert unknown.status_code == 404 and b"<Code>NoSuchUpload</Code>" in unknown.content


def test_malformed_completions_and_deletes_are_400s_that_change_nothing(server: RunningServer, cos: Any, bucket: str) -> None:
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="m.bin")["UploadId"]
    for body in [b"", b"<CompleteMultipartUpload><Part>", b"<Other/>",
                 b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
                 b"<CompleteMultipartUpload><Part>text</Part></CompleteMultipartUpload>"]:
        answer = signed(server, "POST", "/m.bin", bucket, params={"uploadId": upload_id}, body=body)
        assert answer.status_code == 400, (body, answer.text)
        assert b"<Code>" in answer.content
    assert [u["UploadId"] for u in cos.list_multipart_uploads(Bucket=bucket)["Upload"]] == [upload_id]
    cos.put_object(Bucket=bucket, Key="kept", Body=b"x")
    for body in [b"<Delete/>", b"<Delete><Object/></Delete>", b"not xml", b"<Nope/>"]:
        answer = signed(server, "POST", "/", bucket, params={"delete": ""}, body=body)
        assert answer.status_code == 400 and b"MalformedXML" in answer.content, (body, answer.text)
    assert cos.object_exists(Bucket=bucket, Key="kept")


@pytest.mark.parametrize("key", ["a#b.bin", "what?.bin", "x%23y.bin"])
def test_a_key_with_a_hash_or_question_mark_keeps_its_query(cos: Any, bucket: str, key: str) -> None:
    cos.put_object(Bucket=bucket, Key=key, Body=b"abc", ContentType="application/octet-stream")
    got = cos.get_object(Bucket=bucket, Key=key, ResponseContentType="image/png")
    assert got["Body"].get_raw_stream().read() == b"abc"
    assert got["Content-Type"] == "image/png"
