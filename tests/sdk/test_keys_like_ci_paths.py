"""Object keys that look like CI paths are objects: routing goes by the whole request's meaning."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request

CI_SHAPED_KEYS = [
    "jobs", "jobs/x", "jobs/thumb.png", "pic_jobs", "pic_jobs/out.jpg", "ai_jobs/a.txt",
    "template", "template/a.png", "template/banner.png", "workflow", "workflow/step/1.png",
    "workflowexecution/run.json", "inventorytriggerjob", "inventorytriggerjob/list.csv",
    "picqueue", "picqueue/p.png", "queue/x", "triggerworkflow", "ai_bucket/x",
]  # fmt: skip


def test_every_ci_shaped_key_is_an_object_through_the_python_sdk(cos: Any, bucket: str) -> None:
    for index, key in enumerate(CI_SHAPED_KEYS):
        body = f"object {index}: {key}".encode()
        cos.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png")
        got = cos.get_object(Bucket=bucket, Key=key)
        assert got["Body"].get_raw_stream().read() == body, key
        assert got["Content-Type"] == "image/png", key
        assert cos.head_object(Bucket=bucket, Key=key)["Content-Length"] == str(len(body)), key
    listed = cos.list_objects(Bucket=bucket, MaxKeys=1000)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(CI_SHAPED_KEYS)
    for key in CI_SHAPED_KEYS:
        cos.delete_object(Bucket=bucket, Key=key)
        assert not cos.object_exists(Bucket=bucket, Key=key), key


@pytest.mark.parametrize("host_form", ["{bucket}.localhost", "{bucket}.cos.{region}.myqcloud.com"])
def test_every_ci_shaped_key_is_an_object_on_each_host_form(server: RunningServer, bucket: str, host_form: str) -> None:
    host = {"Host": host_form.format(bucket=bucket, region=REGION)}
    for key in CI_SHAPED_KEYS:
        path = "/" + key
        put = signed(server, "PUT", path, bucket, body=key.encode(), headers=host)
        assert put.status_code == 200, (key, put.text)
        got = signed(server, "GET", path, bucket, headers=host)
        assert (got.status_code, got.content) == (200, key.encode()), key
        assert signed(server, "HEAD", path, bucket, headers=host).headers["Content-Length"] == str(len(key))
    listing = parse_request(signed(server, "GET", "/", bucket, params={"prefix": "jobs"}, headers=host).content, root="ListBucketResult")
    contents = listing["Contents"] if isinstance(listing["Contents"], list) else [listing["Contents"]]
    assert [c["Key"] for c in contents] == ["jobs", "jobs/thumb.png", "jobs/x"]
    for key in CI_SHAPED_KEYS:
        assert signed(server, "DELETE", "/" + key, bucket, headers=host).status_code == 204
        assert signed(server, "GET", "/" + key, bucket, headers=host).status_code == 404


def test_ci_calls_keep_working_on_the_cos_host(cos: Any, bucket: str) -> None:
    """The Python SDK in IP mode sends its CI calls to the .cos. host: they still reach CI."""
    missing = "c" + "0" * 32
    assert cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=missing)["NonExistJobIds"] == missing
    assert "QueueList" in cos.ci_get_media_pic_queue(Bucket=bucket)
    assert cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess")["NextToken"] in ("", None)


def test_on_the_ci_host_a_ci_path_is_always_ci(server: RunningServer, bucket: str) -> None:
    ci_host = {"Host": f"{bucket}.ci.{REGION}.myqcloud.com"}
    response = signed(server, "GET", "/jobs/thumb.png", bucket, headers=ci_host)
    assert response.status_code == 200
    assert parse_request(response.content, root="Response")["NonExistJobIds"] == "thumb.png"
