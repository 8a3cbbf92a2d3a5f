"""The image pool's children: a task that grows past its memory cap, one that runs past its time,
one whose process dies, and a full pool, each answered with a CI error while the pool keeps working."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wanxiang.model.errors import CIError
from wanxiang.services.pic_pool import PicPool, PoolLimits
from wanxiang.storage.base import ObjectStorage
from wanxiang.storage.registry import open_storage


def pid_of(storage: ObjectStorage) -> int:
    return os.getpid()


def allocate(storage: ObjectStorage, megabytes: int) -> int:
    block = bytearray(megabytes << 20)
    return len(block)


def sleep_for(storage: ObjectStorage, seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def die(storage: ObjectStorage) -> None:
    os._exit(3)


def refuse(storage: ObjectStorage) -> None:
    raise CIError(404, "NoSuchKey", "The specified key does not exist: x")


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[PicPool]:
    url = f"local:{tmp_path / 'objects'}"
    opened = PicPool(open_storage(url), url, PoolLimits(processes=1, backlog=0, memory_bytes=768 << 20, task_seconds=3))
    try:
        yield opened
    finally:
        pids = opened.child_pids()
        opened.shutdown()
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_tasks_run_in_a_child_process_and_ci_errors_come_back_as_ci_errors(pool: PicPool) -> None:
    assert pool.call(pid_of) != os.getpid()
    with pytest.raises(CIError) as caught:
        pool.call(refuse)
    assert (caught.value.status, caught.value.code) == (404, "NoSuchKey")


def test_a_task_past_its_memory_cap_fails_and_the_child_lives_on(pool: PicPool) -> None:
    child = pool.call(pid_of)
    with pytest.raises(CIError) as caught:
        pool.call(allocate, 2048)
    assert (caught.value.status, caught.value.code) == (400, "ImageTooLarge")
    assert pool.call(allocate, 64) == 64 << 20
    assert pool.call(pid_of) == child


def test_a_task_past_its_time_is_abandoned_and_its_child_replaced(pool: PicPool) -> None:
    child = pool.call(pid_of)
    with pytest.raises(CIError) as caught:
        pool.call(sleep_for, 60)
    assert caught.value.code == "ImageProcessFailed"
    assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
    assert pool.call(sleep_for, 0) == "slept"
    assert pool.call(pid_of) != child


def test_a_child_that_dies_is_a_503_and_the_pool_is_rebuilt(pool: PicPool) -> None:
    with pytest.raises(CIError) as caught:
        pool.call(die)
    assert (caught.value.status, caught.value.code) == (503, "ServiceUnavailable")
    assert pool.call(sleep_for, 0) == "slept"


def test_a_full_pool_answers_slow_down_without_waiting(pool: PicPool) -> None:
    busy = threading.Thread(target=pool.call, args=(sleep_for, 1.5))
    busy.start()
    time.sleep(0.5)  # the one slot is taken (backlog 0)
    with pytest.raises(CIError) as caught:
        pool.call(sleep_for, 0)
    assert (caught.value.status, caught.value.code) == (503, "SlowDown")
    busy.join()
    assert pool.call(sleep_for, 0) == "slept"


def test_a_task_past_its_time_replaces_only_its_own_child(tmp_path: Path) -> None:
    url = f"local:{tmp_path / 'objects'}"
    pool = PicPool(open_storage(url), url, PoolLimits(processes=2, backlog=0, memory_bytes=768 << 20, task_seconds=3))
    codes: list[str] = []

    def stuck() -> None:
        try:
            pool.call(sleep_for, 60)
        except CIError as error:
            codes.append(error.code)

    try:
        waiting = threading.Thread(target=stuck)
        waiting.start()
        while not pool.child_pids():  # the stuck task has its child
            time.sleep(0.05)
        other = pool.call(pid_of)  # served by a second child meanwhile
        waiting.join()
        assert codes == ["ImageProcessFailed"]
        assert pool.call(pid_of) == other  # the task that shared the pool was not cut short
        assert pool.child_pids() == [other]
    finally:
        pids = pool.child_pids()
        pool.shutdown()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
