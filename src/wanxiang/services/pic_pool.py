"""Image processing for the API (downloads with a rule, imageInfo, Pic-Operations, image_process)
in a small pool of child processes, so the API process never decodes a pixel.

Each child caps its own address space (``RLIMIT_AS``): an input that slips past the decoding budget
fails that task (or kills that child, and the pool is rebuilt); it cannot grow the API process. At
most ``processes`` tasks run and ``backlog`` more wait; a request beyond that is answered at once
with 503 ``SlowDown`` instead of queueing without bound. A task that runs past ``task_seconds`` is
abandoned: the pool's children are killed and replaced (tasks that shared them get a 503).

The children open the storage themselves from its URL (they read the source and write results
directly). A ``memory:`` store cannot be shared with another process, so with it the tasks run in
the API process (a throwaway setup for tests and demos), as they do with ``processes=0`` (the
unisolated baseline the bench compares against).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from wanxiang.model.errors import CIError
from wanxiang.storage.base import ObjectStorage

log = logging.getLogger("wanxiang.pic_pool")
T = TypeVar("T")

_M_ARENA_MAX = -8  # glibc mallopt: each thread's arena reserves 64 MB of address space otherwise
_child_storage: ObjectStorage | None = None


@dataclass(frozen=True)
class PoolLimits:
    processes: int = 2
    backlog: int = 8  # tasks that may wait for a free child
    memory_bytes: int = 1 << 30  # address space of one child
    task_seconds: float = 60.0


@dataclass(frozen=True)
class _Failure:
    """A CIError carried back from a child (exceptions with custom __init__ do not pickle)."""

    status: int
    code: str
    message: str


def shareable(storage_url: str) -> bool:
    return not storage_url.startswith("memory")


class PicPool:
    def __init__(self, storage: ObjectStorage, storage_url: str, limits: PoolLimits = PoolLimits()) -> None:
        self.storage = storage
        self.storage_url = storage_url
        self.limits = limits
        self.inline = limits.processes < 1 or not shareable(storage_url)
        # Admission (running + waiting) is refused at once when full; the wait for a child happens
        # here, before submitting, so that a task's time limit counts its own run only.
        self._slots = threading.BoundedSemaphore(limits.processes + limits.backlog)
        self._children = threading.BoundedSemaphore(max(1, limits.processes))
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(storage, *args)`` in a child; CIErrors it raises reach the caller as CIErrors."""
        if not self._slots.acquire(blocking=False):
            raise CIError(503, "SlowDown", "Image processing is at capacity. Please reduce your request rate.")
        try:
            if self.inline:
                return fn(self.storage, *args)
            with self._children:
                return self._in_child(fn, args)
        finally:
            self._slots.release()

    def _in_child(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        executor = self._current()
        try:
            try:
                future = executor.submit(_run, fn, args)
            except RuntimeError:  # another task's timeout shut this executor down meanwhile
                executor = self._current()
                future = executor.submit(_run, fn, args)
            result = future.result(timeout=self.limits.task_seconds)
        except concurrent.futures.TimeoutError:
            log.warning("image processing ran past %.0f s; replacing the pool", self.limits.task_seconds)
            self._replace(executor)
            raise CIError(
                400, "ImageProcessFailed", f"Image processing took longer than {self.limits.task_seconds:g} s."
            ) from None
        except BrokenProcessPool:
            log.warning("an image processing child died (memory limit or crash); replacing the pool")
            self._replace(executor)
            raise CIError(
                503, "ServiceUnavailable", "Image processing was interrupted. Please try again."
            ) from None
        if isinstance(result, _Failure):
            raise CIError(result.status, result.code, result.message)
        return result

    def _current(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.limits.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_child,
                    initargs=(self.storage_url, self.limits.memory_bytes),
                )
            return self._executor

    def _replace(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        _kill(broken)

    def child_pids(self) -> list[int]:
        with self._lock:
            executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _kill(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(5)


def _init_child(storage_url: str, memory_bytes: int) -> None:
    global _child_storage
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one task per child; its own threads only cost memory
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import pyvips

    pyvips.cache_set_max(0)  # a finished task's images would otherwise stay decoded in the cache
    from wanxiang.storage.registry import open_storage

    _child_storage = open_storage(storage_url)


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    assert _child_storage is not None
    try:
        return fn(_child_storage, *args)
    except CIError as error:
        return _Failure(error.status, error.code, error.message)
    except MemoryError:
        return _Failure(400, "ImageTooLarge", "Image processing needed more memory than it is allowed.")
    except Exception as error:  # noqa: BLE001 - reported to the client as a CI error, logged here
        log.exception("image processing failed")
        return _Failure(500, "InternalError", f"Image processing failed: {type(error).__name__}.")
