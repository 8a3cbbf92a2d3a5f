"""What the S3 backend adds beyond the storage contract, on a real SeaweedFS: multipart uploads of big
objects, ranged reads, streams without a length, the backing bucket and its prefix, the URL."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest

from tests.support.seaweedfs import BACKING_BUCKET, SeaweedFS
from wanxiang.storage.registry import open_storage
from wanxiang.storage.s3 import S3Storage
from wanxiang.storage.s3_config import parse_s3_url

BUCKET = "photos-1250000000"
MB = 1 << 20


class _Pipe(io.RawIOBase):
    """A stream that cannot seek or tell its length, like a socket."""

    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._source.read(min(len(buffer), 65536))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def s3(seaweedfs: SeaweedFS, **options: str) -> S3Storage:
    storage = open_storage(seaweedfs.storage_url(**options))
    assert isinstance(storage, S3Storage)
    return storage


def test_a_big_object_goes_up_in_parts_and_still_answers_its_md5(seaweedfs: SeaweedFS) -> None:
    storage = s3(seaweedfs, part_size="5", multipart_threshold="5")
    body = (bytes(range(256)) * 4096) * 12 + b"tail"  # 12 MB and a bit: three parts
    meta = storage.put(BUCKET, "big.bin", io.BytesIO(body), meta={"owner": "li"})
    md5 = f'"{hashlib.md5(body).hexdigest()}"'
    assert meta.etag == md5
    direct = seaweedfs.client().head_object(Bucket=BACKING_BUCKET, Key=storage.backing_key(BUCKET, "big.bin"))
    assert direct["ETag"].endswith('-3"')  # really a three-part upload on the backend
    head = storage.head(BUCKET, "big.bin")
    assert head is not None and (head.etag, head.size, head.meta) == (md5, len(body), {"owner": "li"})
    with storage.open(BUCKET, "big.bin") as stream:
        assert hashlib.md5(stream.read()).hexdigest() == hashlib.md5(body).hexdigest()


def test_a_stream_without_length_is_stored_whole(seaweedfs: SeaweedFS) -> None:
    storage = s3(seaweedfs)
    body = b"streamed " * 100_000
    meta = storage.put(BUCKET, "pipe.txt", io.BufferedReader(_Pipe(body)), content_type="text/plain")
    assert meta.size == len(body) and meta.etag == f'"{hashlib.md5(body).hexdigest()}"'
    with storage.open(BUCKET, "pipe.txt") as stream:
        assert stream.read() == body


def test_seeking_reads_only_from_there(seaweedfs: SeaweedFS) -> None:
    storage = s3(seaweedfs)
    body = bytes(range(256)) * 1024
    storage.put(BUCKET, "r.bin", body)
    with storage.open(BUCKET, "r.bin") as stream:
        stream.seek(1000)
        assert stream.read(10) == body[1000:1010]
        stream.seek(-5, io.SEEK_END)
        assert stream.read() == body[-5:]
        stream.seek(0)
        assert stream.read(3) == body[:3]


def test_buckets_are_prefixes_of_the_backing_bucket_and_others_stay_apart(seaweedfs: SeaweedFS) -> None:
    prefix = uuid.uuid4().hex[:8]
    first = open_storage(seaweedfs.storage_url(prefix))
    first.put(BUCKET, "a.txt", b"1")
    beside = open_storage(seaweedfs.storage_url(prefix + "-other"))
    assert first.list_buckets() == [BUCKET]
    assert beside.list_buckets() == [] and beside.head(BUCKET, "a.txt") is None
    again = open_storage(seaweedfs.storage_url(prefix))  # another process, same URL: same objects
    assert again.bucket_exists(BUCKET) and again.head(BUCKET, "a.txt") is not None


def test_a_missing_backing_bucket_is_a_clear_error_unless_asked_to_create_it(seaweedfs: SeaweedFS) -> None:
    name = f"missing-{uuid.uuid4().hex[:8]}"
    url = seaweedfs.storage_url().replace(f"s3://{BACKING_BUCKET}/", f"s3://{name}/")
    with pytest.raises(ValueError, match="does not exist"):
        open_storage(url)
    created = open_storage(url + "&create=1")
    created.put(BUCKET, "k", b"v")
    assert created.head(BUCKET, "k") is not None


def test_the_url_names_bucket_prefix_endpoint_and_options() -> None:
    config = parse_s3_url("s3://media/wx/objects?endpoint=http://127.0.0.1:8333&region=ap-guangzhou&part_size=8")
    assert (config.backing_bucket, config.prefix, config.endpoint) == ("media", "wx/objects/", "http://127.0.0.1:8333")
    assert (config.region, config.addressing_style, config.part_size) == ("ap-guangzhou", "path", 8 * MB)
    aws = parse_s3_url("//media")
    assert (aws.prefix, aws.endpoint, aws.addressing_style) == ("", None, "virtual")
    assert "secret" not in repr(parse_s3_url("s3://m?access_key=id&secret_key=secret"))


@pytest.mark.parametrize("url", [
    "s3://", "s3://m?endpoint=ftp://x", "s3://m?style=sideways", "s3://m?access_key=only",
    "s3://m?part_size=1", "s3://m?part_size=big", "s3://m?colour=blue",
])
def test_bad_urls_say_what_is_wrong(url: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_url(url)


def test_an_unreachable_store_fails_as_an_os_error(seaweedfs: SeaweedFS) -> None:
    """An OSError is what the API answers 503 ServiceUnavailable (as a full disk), not a 500."""
    from tests.support.server import free_port
    from wanxiang.storage.s3_client import StoreUnavailable

    dead = seaweedfs.storage_url(endpoint=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(StoreUnavailable) as failed:
        open_storage(dead)
    assert isinstance(failed.value, OSError) and "S3 store failed" in str(failed.value)
