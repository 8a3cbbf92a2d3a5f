"""The command line as an operator meets it: first start, Ctrl-C, and workers on another machine."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.database import PG_URL, new_schema_name, require_postgres
from tests.support.images import marker_png, size
from tests.support.jobs import wait_for_state
from tests.support.server import start_server
from wanxiang.store.db import open_engine


def test_first_start_without_credentials_generates_a_private_keys_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANXIANG_")}
    from tests.support.server import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wanxiang.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path), "--workers", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        while not any("listening" in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        output = "".join(lines)
        keys = tmp_path / "credentials"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        secret_id, secret_key = keys.read_text().splitlines()[-1].split()
        assert secret_id in output and secret_key in output
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
        process.stdout.close()  # type: ignore[union-attr]
    assert process.returncode == 0


def test_ctrl_c_stops_the_server_and_its_workers(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", "--workers", "2")
    children_before = _children(server.process.pid)
    assert children_before
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(30) == 0
    time.sleep(0.5)
    assert not [pid for pid in children_before if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]


def test_workers_on_another_machine_run_jobs_the_api_accepted(tmp_path: Path) -> None:
    """`serve --workers 0` takes requests; a separate `wanxiang worker` on the same PostgreSQL
    and storage runs them: the scale-out shape."""
    require_postgres()
    schema = new_schema_name("cli")
    objects = tmp_path / "objects"
    common = ["--database-url", PG_URL, "--database-schema", schema, "--storage-url", f"local:{objects}"]
    server = start_server(tmp_path / "api", "--workers", "0", *common)
    worker = subprocess.Popen(
        [sys.executable, "-m", "wanxiang.cli", "worker", "--data-dir", str(tmp_path / "w"), "--workers", "1", *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        cos: Any = sdk_client(server)
        bucket = "scale-1250000000"
        cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
        job_id = submit(cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
        assert wait_for_state(getter(cos, bucket), job_id, timeout=60)["State"] == "Success"
        assert size(cos.get_object(Bucket=bucket, Key="b.png")["Body"].get_raw_stream().read()) == (100, 200)
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(30)
        server.stop()
        admin = open_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
