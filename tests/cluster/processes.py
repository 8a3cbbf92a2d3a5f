"""The processes of a small wanxiang cluster: ``wanxiang serve`` (API only) and ``wanxiang worker``,
each in its own session (so a SIGKILL takes the whole process group, as a machine dying would)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer, start_server


@dataclass
class Worker:
    data_dir: Path
    args: list[str]
    process: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "WANXIANG_SECRET_ID": SECRET_ID, "WANXIANG_SECRET_KEY": SECRET_KEY}
        with (self.data_dir / "worker.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "wanxiang.cli", "worker", "--data-dir", str(self.data_dir), *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )

    def log(self) -> str:
        return (self.data_dir / "worker.log").read_text(errors="replace")

    def stop(self) -> None:
        stop_group(self.process, signal.SIGTERM)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and every process of its group, at once."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stop_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """``sig`` to the leader, SIGKILL to the group after 20 s; then no process of the group remains."""
    if process.poll() is None:
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their leader
    if process.poll() is None:
        process.wait()


def group_members(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def gone_or_left(pgids: list[int], timeout: float = 10) -> list[int]:
    """Processes still in these groups once they had ``timeout`` seconds to be reaped."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pgid in pgids for pid in group_members(pgid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def restart_api(old: RunningServer) -> RunningServer:
    """The same API process again (same data dir and options) on a new port, after it died."""
    extra = old.args[old.args.index("--region") + 2 :]
    return start_server(old.data_dir, *extra)
