"""``serve --api-processes N`` on PostgreSQL: N API processes answer on one port, the workers and the
callback deliverer run once, and the processes stop, restart and follow a dead parent like workers.
Which process answered is read from the JSON access log (every line carries its pid)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sdk_client
from tests.integration.test_startup import _one_line_error, _wanxiang
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.database import PG_URL, new_schema_name, require_postgres
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.processes import descendants, still_alive
from tests.support.server import RunningServer, free_port, start_server
from wanxiang.store.db import drop_schema, open_engine

BUCKET = "apis-1250000000"
STARTED = re.compile(r"^API process (\d+) started$")


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one server, dropped afterwards."""
    require_postgres()
    name = new_schema_name("api")
    yield name
    admin = open_engine(PG_URL)
    drop_schema(admin, name)
    admin.dispose()


def _serve(tmp_path: Path, schema: str, *extra: str) -> RunningServer:
    """A server on ``schema``; returns once every API process serves (the parent then says it listens)."""
    server = start_server(
        tmp_path / "srv", "--database-url", PG_URL, "--database-schema", schema, "--log-format", "json", *extra
    )
    deadline = time.monotonic() + 60
    while "wanxiang listening" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "wanxiang listening" in server.log(), server.log()
    return server


def _records(server: RunningServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def _api_pids(server: RunningServer) -> list[int]:
    """The API processes started so far, in order, from their start lines."""
    return [int(m.group(1)) for r in _records(server) if (m := STARTED.match(r["message"]))]


def _own_connection(server: RunningServer) -> Any:
    """An SDK client with a session of its own: a new connection (the SDK's clients otherwise share
    one pool of kept-alive connections), which the kernel gives to either API process."""
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(Region=server.region, SecretId=server.secret_id, SecretKey=server.secret_key,
                       Scheme="http", IP="127.0.0.1", Port=server.port)
    return CosS3Client(config, retry=0, session=requests.Session())


def _jobs_submitted(server: RunningServer) -> float:
    """wanxiang_jobs_submitted_total for PicProcess, as one scrape (over a new connection) reports it."""
    body = httpx.get(server.url + "/-/metrics", timeout=10).text
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "wanxiang_jobs_submitted_total" and sample.labels.get("tag") == "PicProcess":
                return sample.value
    return 0.0


def _big_object(cos: Any) -> str:
    """32 MB stored: far more than the loopback socket buffers hold, so a download of it is still
    being sent while the client reads slowly."""
    body = os.urandom(1 << 20) * 32
    cos.put_object(Bucket=BUCKET, Body=body, Key="big.bin")
    return hashlib.md5(body).hexdigest()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_sqlite_refuses_api_processes_with_one_line(tmp_path: Path, how: str) -> None:
    args = ["serve", "--data-dir", str(tmp_path), "--port", str(free_port()), "--workers", "0"]
    if how == "flag":
        result = _wanxiang(*args, "--api-processes", "2")
    else:
        result = _wanxiang(*args, env={"WANXIANG_API_PROCESSES": "2"})
    _one_line_error(result, "--api-processes 2", "PostgreSQL", "--database-url")
    assert result.stdout == ""


def test_two_api_processes_serve_jobs_from_one_port(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "2")
    try:
        cos = sdk_client(server)
        cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/a.png")
        jobs: list[str] = []

        def submit_some(n: int) -> None:
            for i in range(6):
                job = pic_job(BUCKET, "in/a.png", "imageMogr2/rotate/90", f"out/{n}-{i}.png")
                jobs.append(submit(_own_connection(server), BUCKET, job))

        threads = [threading.Thread(target=submit_some, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(jobs) == 24
        for job_id in jobs:
            assert wait_for_state(getter(cos, BUCKET), job_id)["State"] == "Success"

        api = set(_api_pids(server))
        answered = {r["pid"] for r in _records(server)
                    if r["logger"] == "wanxiang.access" and r.get("family") == "pic_jobs" and r["method"] == "POST"}
        assert len(api) == 2 and answered == api  # both processes took submits, and only they
        ran = {r["pid"] for r in _records(server) if r["message"] == "job started"}
        assert ran and not ran & api  # the jobs ran in the worker processes
        # Every scrape, whichever process answers it, counts every process's submits.
        assert {_jobs_submitted(server) for _ in range(6)} == {24.0}
        for _ in range(6):
            ready = httpx.get(server.url + "/-/ready", timeout=10)
            assert ready.status_code == 200 and ready.json()["checks"]["workers"] == "ok", ready.text
    finally:
        assert server.stop() == 0
    # One worker pool, the parent's: two workers started, not two per API process.
    assert len([r for r in _records(server) if r["message"].startswith("worker ") and "started" in r["message"]]) == 2


def test_sigterm_stops_every_api_process_and_leaves_no_child(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "1")
    cos = sdk_client(server)
    md5 = _big_object(cos)
    download = cos.get_object(Bucket=BUCKET, Key="big.bin")["Body"].get_raw_stream()
    first = download.read(1 << 20)  # a download in flight on one of the API processes
    children = descendants(server.process.pid)
    assert len(children) >= 4  # two API processes, a worker, the resource tracker

    server.process.send_signal(signal.SIGTERM)
    rest = download.read()
    assert hashlib.md5(first + rest).hexdigest() == md5  # the request in flight finished whole
    assert server.process.wait(120) == 0
    assert still_alive(children, timeout=30) == []
    stopped = [r for r in _records(server) if re.match(r"^API process \d+ stopped$", r["message"])]
    assert {r["pid"] for r in stopped} == set(_api_pids(server))
    server.stop()


def test_a_second_signal_ends_the_api_processes_requests_at_once(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "1", "--shutdown-grace", "600")
    cos = sdk_client(server)
    _big_object(cos)
    download = cos.get_object(Bucket=BUCKET, Key="big.bin")["Body"].get_raw_stream()
    download.read(1 << 20)  # and then no more: the download would hold its process for the grace period
    children = descendants(server.process.pid)

    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(60) == 0  # long before the 600 s grace period
    assert still_alive(children, timeout=30) == []
    assert "stopping at once" in server.log()
    download.release_conn()
    server.stop()


def test_a_killed_api_process_is_replaced_and_its_waiting_connections_are_served(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "0")
    try:
        first = _api_pids(server)
        assert len(first) == 2
        os.kill(first[0], signal.SIGSTOP)  # it accepts nothing more: its share of new connections waits
        answers: list[str] = []

        def upload(i: int) -> None:
            _own_connection(server).put_object(Bucket=BUCKET, Body=marker_png(), Key=f"after/{i}.png")
            answers.append(f"after/{i}.png")

        uploads = [threading.Thread(target=upload, args=(i,)) for i in range(16)]
        for thread in uploads:
            thread.start()
        deadline = time.monotonic() + 60
        while not answers and time.monotonic() < deadline:  # the other process answers meanwhile
            time.sleep(0.1)
        os.kill(first[0], signal.SIGKILL)
        for thread in uploads:
            thread.join(120)
        assert sorted(answers) == sorted(f"after/{i}.png" for i in range(16))  # none was reset

        replacement = _api_pids(server)[2:]
        assert len(replacement) == 1 and replacement[0] not in first, server.log()
        assert still_alive([first[0]], timeout=30) == []
        answered = {r["pid"] for r in _records(server) if r["logger"] == "wanxiang.access" and r["method"] == "PUT"}
        assert answered == {first[1], replacement[0]}  # the replacement took the connections left waiting
        cos = sdk_client(server)
        assert len(cos.list_objects(Bucket=BUCKET, Prefix="after/")["Contents"]) == 16
        assert httpx.get(server.url + "/-/ready", timeout=10).status_code == 200
        children = descendants(server.process.pid)
    finally:
        assert server.stop() == 0
    assert still_alive(children, timeout=30) == []


def test_a_second_server_on_the_same_port_is_refused(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "0")
    try:
        for processes in ("2", "1"):  # SO_REUSEPORT would have let the first share the port silently
            result = _wanxiang("serve", "--data-dir", str(tmp_path / "other"), "--port", str(server.port),
                               "--workers", "0", "--api-processes", processes, "--database-url", PG_URL,
                               "--database-schema", schema)
            _one_line_error(result, f"port {server.port}", "already in use")
    finally:
        assert server.stop() == 0


def test_api_processes_exit_by_themselves_when_serve_is_killed(tmp_path: Path, schema: str) -> None:
    server = _serve(tmp_path, schema, "--api-processes", "2", "--workers", "1")
    cos = sdk_client(server)
    cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/small.png")
    for i in range(4):  # downloads with a rule start image processing children under the API processes
        _own_connection(server).ci_get_object(Bucket=BUCKET, Key="in/small.png", DestImagePath=str(tmp_path / f"r{i}.png"),
                                         Rule="imageMogr2/rotate/90")
    children = descendants(server.process.pid)
    assert len(children) >= 5  # two API processes, an image processing child, a worker, the resource tracker

    server.process.kill()  # SIGKILL: no chance to stop anything
    server.process.wait()
    assert still_alive(children, timeout=60) == [], server.log()
    server.stop()
