"""A pytest plugin (entry point ``pytest11``: ``wanxiang.testing``) for suites that use wanxiang as a
local stand-in for COS + CI.

Fixtures: ``wanxiang_server`` (session scope: a real ``wanxiang serve --dev`` subprocess on a free
port with a temporary data dir, stopped and removed afterwards), ``wanxiang_fresh`` (the same
server, reset before the test) and ``cos_client`` (an official ``CosS3Client`` pointed at it). ``start_server`` is there for suites that want other options.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from wanxiang.config import DEV_SECRET_ID, DEV_SECRET_KEY

REGION = "ap-guangzhou"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    args: list[str] = field(default_factory=list)
    secret_id: str = DEV_SECRET_ID
    secret_key: str = DEV_SECRET_KEY
    region: str = REGION

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """SIGINT, as an operator would (the server's own grace period bounds the wait), then make
        sure nothing of its process group is left. Returns the server's exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Worker and pool processes share the server's session (start_new_session): none may
        # outlive it, and stop() returns only once they are gone (bounded).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while group_members(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.process.returncode


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (from /proc; empty where there is none)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def start_server(
    data_dir: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 60, dev: bool = True
) -> RunningServer:
    """Start ``wanxiang serve`` (``--dev`` unless ``dev=False``) on a free port; return once healthy."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    args = [
        sys.executable, "-m", "wanxiang.cli", "serve",
        "--port", str(port), "--data-dir", str(data_dir), "--region", REGION,
        *(["--dev"] if dev else []), *extra,
    ]
    full_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True)
    server = RunningServer(port, data_dir, process, log_path, args)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"wanxiang serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/-/healthy", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"wanxiang serve did not become healthy:\n{server.log()}")


def cos_client_for(server: RunningServer) -> Any:
    """The official SDK's client, configured for ``server`` (imported here: the SDK is the user's dependency)."""
    from qcloud_cos import CosConfig, CosS3Client

    config = CosConfig(Region=server.region, SecretId=server.secret_id, SecretKey=server.secret_key,
                       Scheme="http", IP="127.0.0.1", Port=server.port)
    return CosS3Client(config, retry=0)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "wanxiang_serve_args",
        "extra `wanxiang serve` options for the wanxiang_server fixture (e.g. --workers 1 --seed tests/seed)",
        type="args",
        default=["--workers", "2"],
    )


@pytest.fixture(scope="session")
def wanxiang_server(pytestconfig: pytest.Config) -> Iterator[RunningServer]:
    """A real ``wanxiang serve --dev`` (SQLite, a temporary data dir; options from the
    ``wanxiang_serve_args`` ini setting, 2 workers by default) for the session."""
    data_dir = Path(tempfile.mkdtemp(prefix="wanxiang-"))
    try:
        server = start_server(data_dir, *pytestconfig.getini("wanxiang_serve_args"))
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def wanxiang_fresh(wanxiang_server: RunningServer) -> RunningServer:
    """``wanxiang_server`` emptied before the test (``POST /-/reset``): no bucket, object, job,
    queue, template, workflow, style or test mode left from earlier tests."""
    from wanxiang.cli_client.http import Client, Profile

    Client(Profile(endpoint=wanxiang_server.url, secret_id=wanxiang_server.secret_id,
                   secret_key=wanxiang_server.secret_key, region=wanxiang_server.region)).xml("POST", "/-/reset")
    return wanxiang_server


@pytest.fixture
def cos_client(wanxiang_server: RunningServer) -> Any:
    """A ``qcloud_cos.CosS3Client`` pointed at ``wanxiang_server``."""
    return cos_client_for(wanxiang_server)
