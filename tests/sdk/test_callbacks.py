"""TaskFinish callbacks: the job's CallBack, the queue's NotifyConfig, JSON and XML, retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from wanxiang.wire.xml import parse_request


class Receiver:
    """An HTTP endpoint on loopback that records what it is sent; it can fail the first N posts."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.fail_first = fail_first
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.bodies.append((self.headers.get("Content-Type", ""), body))
                receiver.got.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_job_callback_gets_taskfinish_in_json(cos: Any, bucket: str, receiver: Receiver) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png",
                                         CallBack=receiver.url, CallBackFormat="JSON"))
    wait_for_state(getter(cos, bucket), job_id)
    assert receiver.got.wait(15)
    content_type, body = receiver.bodies[0]
    assert content_type.startswith("application/json")
    payload = json.loads(body)
    assert payload["EventName"] == "TaskFinish"
    assert payload["JobsDetail"]["JobId"] == job_id
    assert payload["JobsDetail"]["State"] == "Success"
    assert payload["JobsDetail"]["Operation"]["PicProcessResult"]["UploadResult"]["ProcessResults"]["Object"]["Width"] == "100"


def test_queue_notify_config_sends_xml_and_retries_a_failing_endpoint(cos: Any, bucket: str) -> None:
    receiver = Receiver(fail_first=2)
    try:
        cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
        queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
        cos.ci_update_media_pic_queue(
            Bucket=bucket,
            QueueId=queue["QueueId"],
            Request={"Name": "q", "State": "Active",
                     "NotifyConfig": {"Url": receiver.url, "Event": "TaskFinish", "Type": "Url", "State": "On", "ResultFormat": "XML"}},
        )
        job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
        assert receiver.got.wait(20)
        content_type, body = receiver.bodies[0]
        assert content_type.startswith("application/xml")
        tree = parse_request(body, root="Response")
        assert tree["EventName"] == "TaskFinish" and tree["JobsDetail"]["JobId"] == job_id
        # A job that says CallBack=no is not announced through the queue.
        silent = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "c.png", CallBack="no"))
        wait_for_state(getter(cos, bucket), silent)
        loud = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "d.png"))
        wait_for_state(getter(cos, bucket), loud)
        deadline = __import__("time").monotonic() + 15
        while len(receiver.bodies) < 2 and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.1)
        announced = [parse_request(b, root="Response")["JobsDetail"]["JobId"] for _, b in receiver.bodies]
        assert announced == [job_id, loud]
    finally:
        receiver.close()
