"""What an operator reads from a running server: the JSON log, /-/metrics, /-/healthy, /-/ready."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.database import PG_URL, require_postgres
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.processes import descendants
from tests.support.server import SECRET_KEY, RunningServer, start_server
from wanxiang.store.db import open_engine

BUCKET = "obs-1250000000"


def _records(server: RunningServer) -> list[dict[str, Any]]:
    """Every line of the server's log that is not the start-up banner, parsed as JSON."""
    records = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
        else:
            assert line.startswith(("wanxiang listening", "Credentials:")), line
    return records


def _samples(server: RunningServer, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = httpx.get(server.url + "/-/metrics", headers=headers, timeout=10)
    assert body.status_code == 200, body.text
    samples = {}
    for family in text_string_to_metric_families(body.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = start_server(tmp_path_factory.mktemp("obs"), "--workers", "2", "--log-format", "json")
    yield running
    running.stop()


def test_one_job_is_told_in_the_json_log_from_submission_to_finish(json_server: RunningServer) -> None:
    cos = sdk_client(json_server)
    cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/a.png")
    good = submit(cos, BUCKET, pic_job(BUCKET, "in/a.png", "imageMogr2/rotate/90", "out/a.png"))
    bad = submit(cos, BUCKET, pic_job(BUCKET, "in/missing.png", "imageMogr2/rotate/90", "out/b.png"))
    assert wait_for_state(getter(cos, BUCKET), good)["State"] == "Success"
    assert wait_for_state(getter(cos, BUCKET), bad)["State"] == "Failed"
    time.sleep(0.3)  # the worker's finish line is written just after the outcome is stored

    records = _records(json_server)
    story = [(r["message"], r.get("state")) for r in records if r.get("job_id") == good]
    assert story == [("job submitted", None), ("job started", None), ("job finished", "Success")]
    started = next(r for r in records if r.get("job_id") == good and r["message"] == "job started")
    assert started["worker"] and started["tag"] == "PicProcess" and started["attempt"] == 1
    failed = next(r for r in records if r.get("job_id") == bad and r["message"] == "job finished")
    assert failed["level"] == "WARNING" and failed["code"] == "InputObjectNotExist" and failed["duration_s"] >= 0

    submit_lines = [r for r in records if r["logger"] == "wanxiang.access" and r.get("family") == "pic_jobs"
                    and r["method"] == "POST"]
    assert len(submit_lines) == 2
    line = submit_lines[0]
    assert line["status"] == 200 and line["bucket"] == BUCKET and line["bytes"] > 0 and line["duration_ms"] >= 0
    assert len(line["request_id"]) > 10


def test_an_error_answer_is_logged_with_its_ci_code_and_no_secret(json_server: RunningServer) -> None:
    cos = sdk_client(json_server)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's own error type; the log is what is checked
        cos.get_object(Bucket=BUCKET, Key="no/such-key.png")
    presigned = cos.get_presigned_url(Bucket=BUCKET, Key="in/a.png", Method="GET")
    assert httpx.get(presigned, timeout=10).status_code in (200, 404)
    log = json_server.log()
    records = _records(json_server)
    missing = [r for r in records if r.get("path") == "/no/such-key.png"]
    assert missing and missing[-1]["status"] == 404 and missing[-1]["code"] == "NoSuchKey"
    assert SECRET_KEY not in log
    assert "q-signature=" not in log.replace("q-signature=***", "")
    assert not any("q-signature" in r.get("query", "") for r in records)


def test_metrics_count_requests_jobs_and_workers_across_worker_processes(json_server: RunningServer) -> None:
    cos = sdk_client(json_server)
    before = _samples(json_server)
    cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/m.png")
    jobs = [submit(cos, BUCKET, pic_job(BUCKET, "in/m.png", "imageMogr2/rotate/90", f"out/m{i}.png")) for i in range(6)]
    for job_id in jobs:
        assert wait_for_state(getter(cos, BUCKET), job_id)["State"] == "Success"
    time.sleep(0.3)
    after = _samples(json_server)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("wanxiang_jobs_submitted_total", tag="PicProcess") == 6
    assert grew("wanxiang_jobs_finished_total", tag="PicProcess", state="Success", code="Success") == 6
    assert grew("wanxiang_job_duration_seconds_count", tag="PicProcess") == 6
    assert grew("wanxiang_job_queue_wait_seconds_count", tag="PicProcess") == 6
    assert grew("wanxiang_http_requests_total", family="pic_jobs", status="200") >= 6 + 6  # submits and polls
    assert grew("wanxiang_http_request_duration_seconds_count", family="object") >= 1
    # Both worker processes report, through the shared files: two alive, none busy now.
    assert _value(after, "wanxiang_workers", state="idle") == 2
    assert _value(after, "wanxiang_workers", state="busy") == 0
    assert ("wanxiang_outbox_backlog", ()) in after


def test_queue_depth_counts_jobs_waiting_in_a_paused_queue(json_server: RunningServer) -> None:
    cos = sdk_client(json_server)
    bucket = f"depth{uuid.uuid4().hex[:6]}-1250000000"
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/d.png")
    queue_id = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]["QueueId"]
    cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue_id, Request={"Name": "q", "State": "Paused"})
    for i in range(3):
        submit(cos, bucket, pic_job(bucket, "in/d.png", "imageMogr2/rotate/90", f"out/{i}.png"))
    assert _value(_samples(json_server), "wanxiang_queue_jobs", queue=queue_id, state="Submitted") == 3


def test_metrics_need_the_token_when_one_is_set(tmp_path: Path) -> None:
    server = start_server(tmp_path / "tok", "--workers", "0", "--metrics-token", "s3cret-token")
    try:
        assert httpx.get(server.url + "/-/metrics", timeout=10).status_code == 401
        wrong = httpx.get(server.url + "/-/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401
        assert _samples(server, Authorization="Bearer s3cret-token")
    finally:
        server.stop()


def test_metrics_beyond_loopback_are_refused_without_a_token(tmp_path: Path) -> None:
    server = start_server(tmp_path / "open", "--workers", "0", "--host", "0.0.0.0")
    try:
        refused = httpx.get(server.url + "/-/metrics", timeout=10)
        assert refused.status_code == 403 and "--metrics-token" in refused.json()["message"]
        assert httpx.get(server.url + "/-/healthy", timeout=10).json() == {"status": "ok"}
    finally:
        server.stop()


def _ready(server: RunningServer) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(server.url + "/-/ready", timeout=10)
    return answer.status_code, answer.json()


def _poll_ready(server: RunningServer, want: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            status, body = _ready(server)
        except httpx.ConnectError:  # not listening yet
            status = 0
        if status == want:
            return body
        time.sleep(0.05)
    raise AssertionError(f"/-/ready did not answer {want} within {timeout}s: {body}")


def test_ready_goes_503_naming_the_workers_while_no_worker_runs(tmp_path: Path) -> None:
    server = start_server(tmp_path / "w", "--workers", "1")
    try:
        body = _poll_ready(server, 200)
        assert body == {"status": "ready", "checks": {"database": "ok", "storage": "ok", "workers": "ok"}}
        (worker,) = [pid for pid in descendants(server.process.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        os.kill(worker, signal.SIGKILL)
        down = _poll_ready(server, 503)
        assert down["status"] == "not ready" and down["checks"]["workers"] == "no worker process is running"
        assert down["checks"]["database"] == "ok"
        assert _poll_ready(server, 200)["checks"]["workers"] == "ok"  # the pool started another
    finally:
        server.stop()


def test_ready_goes_503_naming_the_database_while_it_refuses_connections(tmp_path: Path) -> None:
    require_postgres()
    name = f"wx_ready_{uuid.uuid4().hex[:8]}"
    admin = open_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    server = start_server(tmp_path / "db", "--workers", "0", "--database-url", url)
    try:
        assert _poll_ready(server, 200)["checks"]["database"] == "ok"
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        down = _poll_ready(server, 503)
        assert down["checks"]["database"].startswith("the database does not answer")
        assert down["checks"]["storage"] == "ok"
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert _poll_ready(server, 200)["status"] == "ready"
    finally:
        server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_delivered_callback_is_logged_and_counted(json_server: RunningServer) -> None:
    import http.server
    import threading

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        cos = sdk_client(json_server)
        before = _samples(json_server)
        cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/cb.png")
        url = f"http://127.0.0.1:{hook.server_address[1]}/done"
        job_id = submit(cos, BUCKET, pic_job(BUCKET, "in/cb.png", "imageMogr2/rotate/90", "out/cb.png", CallBack=url))
        assert wait_for_state(getter(cos, BUCKET), job_id)["State"] == "Success"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            delivered = [r for r in _records(json_server) if r.get("job_id") == job_id and r["message"] == "callback delivered"]
            if delivered:
                break
            time.sleep(0.1)
        assert delivered and delivered[0]["status"] == 200 and delivered[0]["attempt"] == 1
        after = _samples(json_server)
        grew = _value(after, "wanxiang_callback_attempts_total", event="TaskFinish") - _value(
            before, "wanxiang_callback_attempts_total", event="TaskFinish")
        assert grew == 1
    finally:
        hook.shutdown()
        hook.server_close()


def test_a_worker_machine_serves_its_own_readiness_and_metrics(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.server import free_port

    data = tmp_path / "shared"
    api = start_server(data, "--workers", "0")
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "wanxiang.cli", "worker", "--data-dir", str(data), "--workers", "1",
         "--metrics-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        ops = RunningServer(port, data, worker, data / "none.log")
        body = _poll_ready(ops, 200)
        assert body["checks"] == {"database": "ok", "storage": "ok", "workers": "ok"}
        cos = sdk_client(api)
        cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/w.png")
        job_id = submit(cos, BUCKET, pic_job(BUCKET, "in/w.png", "imageMogr2/rotate/90", "out/w.png"))
        assert wait_for_state(getter(cos, BUCKET), job_id)["State"] == "Success"
        time.sleep(0.3)
        samples = _samples(ops)
        assert _value(samples, "wanxiang_jobs_finished_total", tag="PicProcess", state="Success", code="Success") == 1
        assert _value(samples, "wanxiang_workers", state="idle") == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
        api.stop()
