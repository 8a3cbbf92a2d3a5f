"""A real ``wanxiang serve`` on a free port, for tests that speak HTTP to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SECRET_ID = "AKIDwanxiangtest0000000000000000"
SECRET_KEY = "wanxiang-test-secret-key"
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as an operator would; the server's own grace period bounds the wait. Returns
        the exit status (a server that does not stop is killed with its whole session)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def start_server(data_dir: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 60) -> RunningServer:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    args = [
        sys.executable, "-m", "wanxiang.cli", "serve",
        "--port", str(port),
        "--data-dir", str(data_dir),
        "--allow-private-callbacks",
        "--region", REGION,
        *extra,
    ]
    full_env = dict(os.environ)
    full_env.update({"WANXIANG_SECRET_ID": SECRET_ID, "WANXIANG_SECRET_KEY": SECRET_KEY})
    full_env.update(env or {})
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
