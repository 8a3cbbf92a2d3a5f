"""The same user story on a server backed by PostgreSQL (LISTEN/NOTIFY wake-ups, SKIP LOCKED claims)."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png, pixel, size
from tests.support.jobs import wait_for_state
from tests.support.server import RunningServer


def test_pic_jobs_run_page_and_pause_on_postgresql(pg_server: RunningServer, bucket: str) -> None:
    cos: Any = sdk_client(pg_server)
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "r.png"))
    assert wait_for_state(getter(cos, bucket), job_id)["State"] == "Success"
    rotated = cos.get_object(Bucket=bucket, Key="r.png")["Body"].get_raw_stream().read()
    assert size(rotated) == (100, 200) and pixel(rotated, 95, 5)[0] > 200

    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "q", "State": "Paused"})
    held = [submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/180", f"h{i}.png")) for i in range(12)]
    time.sleep(1.0)
    first = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", States="Submitted", Size=10)
    rest = cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess", States="Submitted", Size=10,
                                      NextToken=first["NextToken"])
    assert [d["JobId"] for d in first["JobsDetail"] + rest["JobsDetail"]] == list(reversed(held))
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={"Name": "q", "State": "Active"})
    for held_id in held:
        assert wait_for_state(getter(cos, bucket), held_id)["State"] == "Success"
