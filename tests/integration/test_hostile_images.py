"""Small files that claim to be huge, against a live server, by download and by job: each ends in a
4xx CI error or a Failed job within 2 s, and no process of the server (API, pool children, workers)
goes past 300 MB. When the image pool is full, a download gets 503 SlowDown at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import sdk_client
from tests.support import hostile
from tests.support.jobs import wait_for_state
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer, start_server
from wanxiang.wire.xml import parse_request

BUCKET = "hostile-1250000000"
LIMIT_KB = 300 << 10
INPUTS = {
    "lying.jpg": hostile.lying_jpeg,
    "frames.gif": hostile.many_frame_gif,
    "huge.png": hostile.huge_png,
    "truncated.jpg": hostile.truncated_jpeg,
}
RULES = ["imageMogr2/rotate/90", "imageMogr2/thumbnail/200x", "imageMogr2/crop/300x300"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("hostile") / "data", "--workers", "1", "--pic-processes", "1", "--pic-backlog", "1"
    )
    try:
        for name, make in INPUTS.items():
            assert signed(running, "PUT", f"/{name}", BUCKET, body=make()).status_code == 200
        assert signed(running, "PUT", "/ok.jpg", BUCKET, body=hostile.small_jpeg()).status_code == 200
        yield running
    finally:
        running.stop()


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for child in (task / "children").read_text().split():
                pids += process_tree(int(child))
        except FileNotFoundError:
            continue
    return pids


def peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def assert_every_process_stayed_small(server: RunningServer) -> None:
    peaks = {pid: peak_kb(pid) for pid in process_tree(server.process.pid)}
    assert len(peaks) >= 3  # the API, at least one pool child, the worker
    assert max(peaks.values()) < LIMIT_KB, peaks


def test_hostile_images_fail_fast_by_download(server: RunningServer) -> None:
    assert signed(server, "GET", "/ok.jpg", BUCKET, params={"imageMogr2/rotate/90": ""}).status_code == 200  # warm
    for name in INPUTS:
        for rule in RULES:
            started = time.monotonic()
            response = signed(server, "GET", f"/{name}", BUCKET, params={rule: ""})
            took = time.monotonic() - started
            assert 400 <= response.status_code < 500, (name, rule, response.status_code, response.text)
            error = parse_request(response.content, root="Error")
            assert error["Code"] in ("ImageTooLarge", "ImageDecodeError"), (name, rule, error)
            assert took < 2, (name, rule, took)
        info = signed(server, "GET", f"/{name}", BUCKET, params={"imageInfo": ""})
        assert info.status_code < 500
    assert_every_process_stayed_small(server)
    assert "Traceback" not in server.log()


def test_hostile_images_fail_fast_by_job(server: RunningServer) -> None:
    cos = sdk_client(server)
    getter = lambda job_id: cos.ci_get_media_pic_jobs(Bucket=BUCKET, JobIDs=job_id)  # noqa: E731
    for name in INPUTS:
        job: dict[str, Any] = {
            "Tag": "PicProcess",
            "Input": {"Object": name},
            "Operation": {
                "PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
                "Output": {"Region": REGION, "Bucket": BUCKET, "Object": f"out/{name}"},
            },
        }
        job_id = cos.ci_create_media_pic_jobs(Bucket=BUCKET, Jobs=job, Lst={})["JobsDetail"][0]["JobId"]
        detail = wait_for_state(getter, job_id, timeout=60)
        assert detail["State"] == "Failed", (name, detail)
        assert detail["Code"] in ("ImageTooLarge", "ImageDecodeError"), (name, detail)
        ran = datetime.fromisoformat(detail["EndTime"]) - datetime.fromisoformat(detail["StartTime"])
        assert ran.total_seconds() <= 2, (name, detail["StartTime"], detail["EndTime"])
        assert signed(server, "HEAD", f"/out/{name}", BUCKET).status_code == 404
    assert_every_process_stayed_small(server)


def test_a_full_image_pool_answers_503_slow_down_at_once(server: RunningServer) -> None:
    assert signed(server, "PUT", "/photo.jpg", BUCKET, body=hostile.big_jpeg(4000, 3000)).status_code == 200
    barrier = threading.Barrier(6)
    answers: list[requests.Response] = []

    def download() -> None:
        barrier.wait()
        answers.append(signed(server, "GET", "/photo.jpg", BUCKET, params={"imageMogr2/rotate/90": ""}))

    threads = [threading.Thread(target=download) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert 200 in statuses and 503 in statuses, statuses
    assert set(statuses) <= {200, 503}
    for answer in answers:
        if answer.status_code == 503:
            assert parse_request(answer.content, root="Error")["Code"] == "SlowDown"
        else:
            assert answer.content[:2] == b"\xff\xd8"


def test_a_large_pic_operations_upload_is_processed_without_the_api_holding_it(server: RunningServer) -> None:
    photo = hostile.big_jpeg(4000, 3000)
    assert len(photo) > 4 << 20  # past what the API keeps in hand
    rules = '{"is_pic_info": 1, "rules": [{"fileid": "small.jpg", "rule": "imageMogr2/thumbnail/400x"}]}'
    response = signed(server, "PUT", "/big/photo.jpg", BUCKET, body=photo, headers={"Pic-Operations": rules})
    assert response.status_code == 200, response.text
    result = parse_request(response.content, root="UploadResult")
    assert result["ProcessResults"]["Object"]["Width"] == "400"
    assert result["OriginalInfo"]["ImageInfo"]["Width"] == "4000"
    small = signed(server, "GET", "/big/small.jpg", BUCKET)
    assert small.status_code == 200 and small.content[:2] == b"\xff\xd8"
    assert peak_kb(server.process.pid) < LIMIT_KB
