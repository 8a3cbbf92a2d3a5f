"""A worker killed with SIGKILL in the middle of a job does not lose it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pyvips

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.jobs import wait_for_state
from tests.support.server import start_server

# Large blurs of a 1500x1500 noise image: a job that runs for seconds, long enough to kill.
SLOW_RULE = "|".join(["imageMogr2/blur/50x40"] * 3)


def worker_pids(server_pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server_pid and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_sigkilled_worker_loses_no_job(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", "--workers", "1", "--lease-seconds", "2")
    try:
        cos: Any = sdk_client(server)
        bucket = "crash-1250000000"
        noise = pyvips.Image.gaussnoise(1500, 1500).cast("uchar")
        cos.put_object(Bucket=bucket, Body=noise.bandjoin([noise, noise]).write_to_buffer(".png"), Key="big.png")
        job_id = submit(cos, bucket, pic_job(bucket, "big.png", SLOW_RULE, "out.png"))
        wait_for_state(getter(cos, bucket), job_id, states=("Running",), timeout=30)
        victims = worker_pids(server.process.pid)
        assert len(victims) == 1, victims
        os.kill(victims[0], signal.SIGKILL)
        killed_at = time.monotonic()
        detail = wait_for_state(getter(cos, bucket), job_id, timeout=120)
        assert detail["State"] == "Success", detail
        assert time.monotonic() - killed_at > 1.5  # it finished on a second run, after the lease lapsed
        assert worker_pids(server.process.pid) and worker_pids(server.process.pid) != victims
        out = cos.get_object(Bucket=bucket, Key="out.png")["Body"].get_raw_stream().read()
        assert pyvips.Image.new_from_buffer(out, "").width == 1500
    finally:
        server.stop()


def test_a_storm_of_worker_kills_loses_no_job(tmp_path: Path) -> None:
    """Workers SIGKILLed again and again while a queue drains: every acknowledged job still ends
    Success with its output, each once."""
    import random

    server = start_server(tmp_path / "srv", "--workers", "2", "--lease-seconds", "2")
    try:
        cos: Any = sdk_client(server)
        bucket = "storm-1250000000"
        noise = pyvips.Image.gaussnoise(900, 900).cast("uchar")
        cos.put_object(Bucket=bucket, Body=noise.bandjoin([noise, noise]).write_to_buffer(".png"), Key="in.png")
        ids = [submit(cos, bucket, pic_job(bucket, "in.png", "imageMogr2/blur/30x20|imageMogr2/blur/30x20", f"out/{i}.png")) for i in range(30)]
        rng = random.Random(7)
        kills = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [d["State"] for d in cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=",".join(ids))["JobsDetail"]]
            if all(s in ("Success", "Failed") for s in states):
                break
            if kills < 5:
                victims = worker_pids(server.process.pid)
                if victims:
                    os.kill(rng.choice(victims), signal.SIGKILL)
                    kills += 1
            time.sleep(0.7)
        assert kills >= 3  # the storm really hit running work
        details = cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=",".join(ids))["JobsDetail"]
        assert [d["State"] for d in details] == ["Success"] * len(ids), [(d["JobId"], d["State"], d["Code"]) for d in details]
        listing = cos.list_objects(Bucket=bucket, Prefix="out/", MaxKeys=100)
        assert len(listing["Contents"]) == len(ids)
    finally:
        server.stop()
