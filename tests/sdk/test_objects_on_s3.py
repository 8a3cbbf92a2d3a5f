"""The object-route SDK tests, unchanged, against a server whose storage is S3 (a real SeaweedFS)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import sdk_client
from tests.sdk import test_objects
from tests.sdk.test_objects import *  # noqa: F403  (the same tests, collected again with the S3 server)
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png, size
from tests.support.jobs import wait_for_state
from tests.support.seaweedfs import BACKING_BUCKET, SeaweedFS
from tests.support.server import RunningServer


@pytest.fixture
def server(s3_server: RunningServer) -> RunningServer:
    return s3_server


@pytest.mark.xfail(strict=True, reason="SeaweedFS refuses a key with '..\\' segments (InvalidRequest): "
                   "wanxiang answers 400 InvalidURI; AWS S3 and COS store it")
def test_keys_with_backslashes_are_stored_as_cos_stores_them(cos: Any, bucket: str) -> None:
    test_objects.test_keys_with_backslashes_are_stored_as_cos_stores_them(cos, bucket)


def test_a_key_the_store_refuses_is_a_clear_400(cos: Any, bucket: str) -> None:
    from qcloud_cos.cos_exception import CosServiceError

    with pytest.raises(CosServiceError) as refused:
        cos.put_object(Bucket=bucket, Body=b"x", Key="..\\..\\etc\\passwd")
    assert refused.value.get_status_code() == 400 and refused.value.get_error_code() == "InvalidURI"


# --- what only S3 adds ------------------------------------------------------------------------------


def test_uploads_land_in_the_backing_bucket_under_the_prefix(cos: Any, bucket: str, seaweedfs: SeaweedFS) -> None:
    cos.put_object(Bucket=bucket, Body=b"stored in seaweedfs", Key="docs/a.txt", ContentType="text/plain")
    direct = seaweedfs.client().get_object(Bucket=BACKING_BUCKET, Key=f"server/{bucket}/docs/a.txt")
    assert direct["Body"].read() == b"stored in seaweedfs"
    assert direct["ContentType"] == "text/plain"


def test_objects_already_in_the_backing_bucket_are_served(s3_server: RunningServer, bucket: str,
                                                          seaweedfs: SeaweedFS) -> None:
    seaweedfs.client().put_object(Bucket=BACKING_BUCKET, Key=f"server/{bucket}/old/photo.png", Body=marker_png())
    cos = sdk_client(s3_server)
    assert cos.get_object(Bucket=bucket, Key="old/photo.png")["Body"].get_raw_stream().read() == marker_png()
    listed = cos.list_objects(Bucket=bucket, Prefix="old/")["Contents"]
    assert [c["Key"] for c in (listed if isinstance(listed, list) else [listed])] == ["old/photo.png"]


def test_a_pic_job_reads_its_input_from_s3_and_writes_its_output_there(cos: Any, bucket: str,
                                                                       seaweedfs: SeaweedFS) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/marker.png")
    job_id = submit(cos, bucket, pic_job(bucket, "in/marker.png", "imageMogr2/rotate/90", "out/rotated.png"))
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    direct = seaweedfs.client().get_object(Bucket=BACKING_BUCKET, Key=f"server/{bucket}/out/rotated.png")
    assert size(direct["Body"].read()) == (100, 200)
