"""Stopping wanxiang as Docker, systemd, Kubernetes or a Ctrl-C do: SIGTERM/SIGINT, a second
signal, a grace period, a killed parent. Every test checks by PID that no process is left behind,
and reads the job table to see that no job is lost or run twice."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.processes import descendants, still_alive
from tests.support.server import RunningServer, start_server
from tests.support.slow import SLOW_RULE, large_jpeg

BUCKET = "life-1250000000"


def _submit_slow_jobs(server: RunningServer, count: int) -> tuple[Any, list[str]]:
    cos = sdk_client(server)
    cos.put_object(Bucket=BUCKET, Body=large_jpeg(), Key="in/large.jpg")
    jobs = [submit(cos, BUCKET, pic_job(BUCKET, "in/large.jpg", SLOW_RULE, f"out/{i}.jpg")) for i in range(count)]
    return cos, jobs


def _wait_running(cos: Any, job_id: str) -> None:
    wait_for_state(getter(cos, BUCKET), job_id, states=("Running",), timeout=60)


def _jobs_table(data_dir: Path) -> dict[str, tuple[str, str | None, int]]:
    """job id -> (state, lease owner, attempts), read from the server's SQLite file."""
    with sqlite3.connect(data_dir / "wanxiang.db") as conn:
        rows = conn.execute("SELECT job_id, state, lease_owner, attempts FROM jobs").fetchall()
    return {job_id: (state, owner, attempts) for job_id, state, owner, attempts in rows}


def _log_events(text: str, message: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("message") == message:
                events.append(record)
    return events


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_lets_the_running_job_finish_and_leaves_queued_jobs_for_the_next_start(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    data = tmp_path / "srv"
    server = start_server(data, "--workers", "1", "--shutdown-grace", "120", "--log-format", "json")
    cos, (running, queued) = _submit_slow_jobs(server, 2)
    _wait_running(cos, running)
    children = descendants(server.process.pid)
    assert children, "serve runs its worker in a process of its own"

    server.process.send_signal(stop_signal)
    assert server.process.wait(120) == 0
    assert still_alive(children) == []
    table = _jobs_table(data)
    assert table[running][0] == "Success"  # finished within the grace period
    assert table[queued][:2] == ("Submitted", None)  # never claimed once the stop began
    first_log = server.log()

    again = start_server(data, "--workers", "1", "--log-format", "json")
    try:
        cos = sdk_client(again)
        assert wait_for_state(getter(cos, BUCKET), queued, timeout=120)["State"] == "Success"
        listed = cos.list_objects(Bucket=BUCKET, Prefix="out/")["Contents"]
        assert sorted(o["Key"] for o in listed) == ["out/0.jpg", "out/1.jpg"]
    finally:
        assert again.stop() == 0
    started = [e["job_id"] for e in _log_events(first_log + again.log(), "job started")]
    assert sorted(started) == sorted([running, queued])  # each job ran once


def test_a_job_still_running_when_the_grace_period_ends_goes_back_to_its_queue_at_once(tmp_path: Path) -> None:
    data = tmp_path / "srv"
    server = start_server(data, "--workers", "1", "--shutdown-grace", "0.5", "--log-format", "json")
    cos, (job_id,) = _submit_slow_jobs(server, 1)
    _wait_running(cos, job_id)
    children = descendants(server.process.pid)

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(60) == 0
    assert still_alive(children) == []
    # Handed back, not left to a lease that lapses later; the attempt does not count against it.
    assert _jobs_table(data)[job_id] == ("Submitted", None, 0)
    assert [e["job_id"] for e in _log_events(server.log(), "job handed back")] == [job_id]

    again = start_server(data, "--workers", "1")
    try:
        detail = wait_for_state(getter(sdk_client(again), BUCKET), job_id, timeout=120)
        assert detail["State"] == "Success", (detail, again.log())
    finally:
        again.stop()


def test_a_second_signal_stops_at_once_and_still_hands_the_job_back(tmp_path: Path) -> None:
    data = tmp_path / "srv"
    server = start_server(data, "--workers", "1", "--shutdown-grace", "600")
    cos, (job_id,) = _submit_slow_jobs(server, 1)
    _wait_running(cos, job_id)
    children = descendants(server.process.pid)

    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(60) == 0  # long before the 600 s grace period
    assert still_alive(children) == []
    state, owner, _ = _jobs_table(data)[job_id]
    assert (state, owner) in {("Submitted", None), ("Success", None)}  # back in the queue, or done just then
    assert "stopping at once" in server.log()


def test_wanxiang_worker_finishes_its_job_on_sigterm_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "shared"
    server = start_server(data, "--workers", "0")
    worker = subprocess.Popen(
        [sys.executable, "-m", "wanxiang.cli", "worker", "--data-dir", str(data), "--workers", "1",
         "--log-format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        cos, (job_id,) = _submit_slow_jobs(server, 1)
        _wait_running(cos, job_id)
        children = descendants(worker.pid)
        worker.send_signal(signal.SIGTERM)
        _, log = worker.communicate(timeout=120)
        assert worker.returncode == 0, log
        assert still_alive(children) == []
        assert wait_for_state(getter(cos, BUCKET), job_id, timeout=5)["State"] == "Success"
        assert [e["job_id"] for e in _log_events(log, "job finished")] == [job_id]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        server.stop()


def test_worker_processes_exit_by_themselves_when_serve_is_killed(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", "--workers", "2", "--shutdown-grace", "1")
    cos, (job_id,) = _submit_slow_jobs(server, 1)
    _wait_running(cos, job_id)
    # A download with a rule starts the image processing children too.
    cos.put_object(Bucket=BUCKET, Body=marker_png(), Key="in/small.png")
    cos.ci_get_object(Bucket=BUCKET, Key="in/small.png", DestImagePath=str(tmp_path / "rotated.png"),
                      Rule="imageMogr2/rotate/90")
    children = descendants(server.process.pid)
    assert len(children) >= 4  # two workers, an image processing child, the resource tracker

    server.process.kill()  # SIGKILL: no chance to stop anything
    server.process.wait()
    assert still_alive(children, timeout=30) == [], server.log()


def test_worker_processes_still_starting_exit_when_serve_is_killed(tmp_path: Path) -> None:
    """Killed as soon as it answers: its worker processes are then usually still importing, and
    must notice a parent that died before they could look."""
    server = start_server(tmp_path / "srv", "--workers", "2")
    children = descendants(server.process.pid)
    server.process.kill()
    server.process.wait()
    assert still_alive(children, timeout=60) == [], server.log()
