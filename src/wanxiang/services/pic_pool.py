"""Image processing for the API (downloads with a rule, imageInfo, Pic-Operations, image_process)
in a small pool of child processes, so the API process never decodes a pixel.

Each child caps its own address space (``RLIMIT_AS``): an input that slips past the decoding budget
fails that task (or kills that child, which is replaced); it cannot grow the API process. At most
``processes`` tasks run and ``backlog`` more wait; a request beyond that is answered at once with
503 ``SlowDown`` instead of queueing without bound. A task that runs past ``task_seconds`` is
abandoned: its child is killed and replaced (the other children's tasks go on).

Each child has a pipe of its own: the request thread that takes an idle child writes the task to
it and reads the answer from it, so a task crosses no thread of the API process but the caller's
(a ``ProcessPoolExecutor`` passes each task and each result through two more threads and a
queue, which cost more than the answer of a small thumbnail takes to pickle).

The children open the storage themselves from its URL (they read the source and write results
directly). A ``memory:`` store cannot be shared with another process, so with it the tasks run in
the API process (a throwaway setup for tests and demos), as they do with ``processes=0`` (the
unisolated baseline the bench compares against).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

from wanxiang.model.errors import CIError
from wanxiang.storage.base import ObjectStorage

log = logging.getLogger("wanxiang.pic_pool")
T = TypeVar("T")

_M_ARENA_MAX = -8  # glibc mallopt: each thread's arena reserves 64 MB of address space otherwise
_STOP_SECONDS = 5.0


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


class _Child:
    """One child process and the parent's end of its pipe."""

    def __init__(self, storage_url: str, memory_bytes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_child_main, args=(child_end, storage_url, memory_bytes), name="wanxiang-pic", daemon=True
        )
        try:
            self.process.start()
        finally:
            child_end.close()  # the child holds it now: its death is an EOF here

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
        """``fn(storage, *args)`` in this child. TimeoutError past ``seconds``; EOFError or OSError
        when the child is gone."""
        self.conn.send((fn, args))
        if not self.conn.poll(seconds):
            raise TimeoutError
        return self.conn.recv()

    def stop(self) -> None:
        """Ask the child to exit; kill it if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(_STOP_SECONDS)
        self.kill()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(_STOP_SECONDS)
        with contextlib.suppress(OSError):
            self.conn.close()


class PicPool:
    def __init__(self, storage: ObjectStorage, storage_url: str, limits: PoolLimits = PoolLimits()) -> None:
        self.storage = storage
        self.storage_url = storage_url
        self.limits = limits
        self.inline = limits.processes < 1 or not shareable(storage_url)
        # Admission (running + waiting) is refused at once when full; the wait for a child happens
        # before its task is sent, so that a task's time limit counts its own run only.
        self._slots = threading.BoundedSemaphore(limits.processes + limits.backlog)
        self._free = threading.BoundedSemaphore(max(1, limits.processes))  # children not busy (or not started)
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._closed = False

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(storage, *args)`` in a child; CIErrors it raises reach the caller as CIErrors."""
        if not self._slots.acquire(blocking=False):
            raise CIError(503, "SlowDown", "Image processing is at capacity. Please reduce your request rate.")
        try:
            if self.inline:
                return fn(self.storage, *args)
            with self._free:
                return self._in_child(fn, args)
        finally:
            self._slots.release()

    def _in_child(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        child = self._take()
        try:
            result = child.run(fn, args, self.limits.task_seconds)
        except TimeoutError:
            log.warning("image processing ran past %.0f s; replacing its child", self.limits.task_seconds)
            self._discard(child)
            raise CIError(
                400, "ImageProcessFailed", f"Image processing took longer than {self.limits.task_seconds:g} s."
            ) from None
        except (EOFError, OSError):
            log.warning("an image processing child died (memory limit or crash); replacing it")
            self._discard(child)
            raise CIError(
                503, "ServiceUnavailable", "Image processing was interrupted. Please try again."
            ) from None
        except BaseException:
            self._discard(child)  # the pipe may hold half a message: the child cannot be trusted
            raise
        self._give_back(child)
        if isinstance(result, _Failure):
            raise CIError(result.status, result.code, result.message)
        return result

    def _take(self) -> _Child:
        """An idle child, or a new one (the caller holds one of ``_free``, so there is room)."""
        with self._lock:
            if self._closed:
                raise CIError(503, "ServiceUnavailable", "The server is stopping.")
            while self._idle:
                child = self._idle.pop()
                if child.process.is_alive():
                    self._busy.add(child)
                    return child
                child.kill()
        try:
            child = _Child(self.storage_url, self.limits.memory_bytes)
        except OSError as error:
            log.warning("an image processing child could not be started: %r", error)
            raise CIError(503, "ServiceUnavailable", "Image processing is unavailable. Please try again.") from None
        with self._lock:
            self._busy.add(child)
        return child

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            self._busy.discard(child)
            if not self._closed:
                self._idle.append(child)
                return
        child.stop()

    def _discard(self, child: _Child) -> None:
        with self._lock:
            self._busy.discard(child)
        child.kill()

    def child_pids(self) -> list[int]:
        with self._lock:
            children = [*self._idle, *self._busy]
        return [pid for pid in (child.pid for child in children) if pid is not None]

    def shutdown(self) -> None:
        """Stop the children: idle ones at once, busy ones when their task ends (killed after the
        task time limit)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for child in idle:
            child.stop()
        deadline = time.monotonic() + self.limits.task_seconds
        while time.monotonic() < deadline:
            with self._lock:
                if not self._busy:
                    return
            time.sleep(0.05)
        with self._lock:
            busy, self._busy = list(self._busy), set()
        for child in busy:
            child.kill()


# -- the child ------------------------------------------------------------------------------------


def _child_main(conn: Connection, storage_url: str, memory_bytes: int) -> None:
    storage = _init_child(storage_url, memory_bytes)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        fn, args = task
        try:
            conn.send_bytes(_answer(_run(storage, fn, args)))
        except (EOFError, OSError):
            return


def _answer(result: Any) -> bytes:
    try:
        return bytes(ForkingPickler.dumps(result))
    except MemoryError:
        return bytes(ForkingPickler.dumps(_too_large()))
    except Exception as error:  # noqa: BLE001 - an answer that cannot travel is still an answer
        log.exception("an image processing result could not be sent")
        failure = _Failure(500, "InternalError", f"Image processing failed: {type(error).__name__}.")
        return bytes(ForkingPickler.dumps(failure))


def _init_child(storage_url: str, memory_bytes: int) -> ObjectStorage:
    from wanxiang.ops.lifecycle import die_with_parent

    die_with_parent()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one task per child; its own threads only cost memory
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import pyvips

    pyvips.cache_set_max(0)  # a finished task's images would otherwise stay decoded in the cache
    from wanxiang.storage.registry import open_storage

    return open_storage(storage_url)


def _too_large() -> _Failure:
    return _Failure(400, "ImageTooLarge", "Image processing needed more memory than it is allowed.")


def _run(storage: ObjectStorage, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return fn(storage, *args)
    except CIError as error:
        return _Failure(error.status, error.code, error.message)
    except MemoryError:
        return _too_large()
    except Exception as error:  # noqa: BLE001 - reported to the client as a CI error, logged here
        log.exception("image processing failed")
        return _Failure(500, "InternalError", f"Image processing failed: {type(error).__name__}.")
