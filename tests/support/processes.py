"""Which processes the test suite started are still alive.

The suite's process makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): a process whose
parent dies is then re-parented to the suite, not to PID 1, so every process the suite started,
directly or not, stays among its descendants and can be found by walking /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    try:
        return int(ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0]


def alive(pid: int) -> bool:
    """The process runs (a zombie, exited but not yet reaped, does not)."""
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z"


def still_alive(pids: list[int], timeout: float = 20) -> list[int]:
    """The pids still alive after up to ``timeout`` seconds (a stopping process gets the time)."""
    deadline = time.monotonic() + timeout
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if alive(pid)]
    return left


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def descendants(root: int) -> list[int]:
    """Live (not zombie) processes under ``root``."""
    children: dict[int, list[int]] = {}
    states: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
                states[int(entry.name)] = stat[1]
    found: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if states.get(pid) != "Z":
            found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def reap_zombies() -> None:
    """Collect the exit status of orphans re-parented to us (our own Popen objects are done)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def leftovers(ignore: set[int], wait: float = 15.0) -> list[int]:
    """Descendants still alive after ``wait`` seconds (stopping servers get time to finish)."""
    deadline = time.monotonic() + wait
    while True:
        alive = [pid for pid in descendants(os.getpid()) if pid not in ignore]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.2)


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
