"""The worker pool replaces a worker process that is frozen whole (an engine holding the GIL, where
no thread of the worker can act, not even to fail its job) once it stops beating."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from tests.support.processes import alive
from wanxiang.config import Settings
from wanxiang.server import WorkerPool, WorkerSpec


def frozen_worker(spec: WorkerSpec, doorbell: Any, pulse: Any) -> None:
    """Beats once, then holds the GIL (catastrophic regex backtracking never releases it)."""
    pulse.value = time.monotonic()
    re.match(r"(a+)+$", "a" * 64 + "b")


def beating_worker(spec: WorkerSpec, doorbell: Any, pulse: Any) -> None:
    while True:
        pulse.value = time.monotonic()
        time.sleep(0.2)



def spec(tmp_path: Path) -> WorkerSpec:
    return WorkerSpec(settings=Settings(data_dir=tmp_path), schema=None, log_level=logging.INFO)


def test_a_frozen_worker_is_killed_and_replaced(tmp_path: Path) -> None:
    pool = WorkerPool(spec(tmp_path), 1, stall_seconds=3, target=frozen_worker)
    pool.start()
    try:
        first = pool.processes[0].pid
        deadline = time.monotonic() + 60
        while pool.processes[0].pid == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pool.processes[0].pid != first
        assert not alive(first)
    finally:
        pids = [p.pid for p in pool.processes]
        pool.shutdown(grace=2)
    assert all(not alive(pid) for pid in pids)


def test_a_beating_worker_is_left_alone(tmp_path: Path) -> None:
    pool = WorkerPool(spec(tmp_path), 1, stall_seconds=3, target=beating_worker)
    pool.start()
    try:
        first = pool.processes[0].pid
        time.sleep(6)
        assert pool.processes[0].pid == first and pool.processes[0].is_alive()
    finally:
        pool.shutdown(grace=2)
    assert not alive(first)
