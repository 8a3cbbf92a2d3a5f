"""Group commit for SQLite: one thread and one connection write for every caller in the process.

SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in its busy
handler instead of being woken, so concurrent submits queue behind each other's sleeps and each
pays its own commit (and fsync). Here a caller hands its rows to the writer; the writer takes
everything waiting at that moment, writes it in one transaction, commits once and only then
answers each caller. Nothing is acknowledged before its commit. If the batch fails, each caller's
rows are retried alone, so one bad request fails only itself.

A caller either blocks in ``write`` (a thread) or hands a callback to ``submit`` and is told from
the writer thread (an event loop awaits a future that callback settles, parking no thread).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine

Request = Any  # what one caller hands over (a job insert: its rows and whether the queue is bounded)
WriteRequests = Callable[[Connection, Sequence[Request]], None]
Done = Callable[[BaseException | None], None]  # called once, from the writer thread, after the commit
MAX_BATCH = 256  # callers per transaction
log = logging.getLogger("wanxiang.store")


class GroupWriter:
    def __init__(
        self, engine: Engine, write_requests: WriteRequests, after_commit: Callable[[], None] | None = None
    ) -> None:
        self.engine = engine
        self.write_requests = write_requests
        self.after_commit = after_commit  # once per committed batch (wake-ups: one per batch, not per job)
        self._pending: queue.SimpleQueue[tuple[Request, Done] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def write(self, request: Request) -> None:
        """Write ``request``; returns once it is committed (raises what writing it raised)."""
        done: Future[None] = Future()
        self.submit(request, lambda error: done.set_result(None) if error is None else done.set_exception(error))
        done.result()

    async def write_async(self, request: Request) -> None:
        """``write`` for a coroutine: it awaits the commit on its event loop, holding no thread."""
        waiter = _LoopWaiter(asyncio.get_running_loop())
        self.submit(request, waiter)
        await waiter.future

    def submit(self, request: Request, done: Done) -> None:
        """Queue ``request``; ``done(None)`` once it is committed, ``done(error)`` if it failed."""
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="sqlite-group-writer", daemon=True)
                    self._thread.start()
        self._pending.put((request, done))

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._pending.put(None)
            thread.join()

    def _loop(self) -> None:
        # One connection for the writer's life: its page cache stays warm between batches (the
        # pool would hand out its connections in turn, each with pages another one changed).
        while True:
            try:
                conn = self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
            except Exception as error:  # noqa: BLE001 - told to the next caller; the one after tries again
                if (item := self._pending.get()) is None:
                    return
                _guarded(item[1], error)
                continue
            with conn:
                if self._serve(conn):
                    return

    def _serve(self, conn: Connection) -> bool:
        """Commit batches until closed (True) or the connection is lost (False)."""
        while (first := self._pending.get()) is not None:
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            if self._commit(conn, batch) and self.after_commit is not None:
                _guarded(self.after_commit)
            if stop:
                return True
            if conn.invalidated:
                return False
        return True

    def _commit(self, conn: Connection, batch: list[tuple[Request, Done]]) -> bool:
        """Write and answer the batch; True if anything of it was committed."""
        try:
            with conn.begin():
                self.write_requests(conn, [request for request, _ in batch])
        except BaseException as error:  # noqa: BLE001 - each caller learns its own outcome
            if len(batch) == 1:
                _guarded(batch[0][1], error)
                return False
            return any([self._commit(conn, [item]) for item in batch])
        _answer_committed([done for _, done in batch])
        return True


class _LoopWaiter:
    """A coroutine's ``done``: settles its future on its loop. The writer answers a batch's
    waiters of one loop with one call (one wake-up of the loop, not one per request)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def __call__(self, error: BaseException | None) -> None:
        self.loop.call_soon_threadsafe(_settle, [(self.future, error)])


def _answer_committed(dones: list[Done]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], BaseException | None]]] = {}
    for done in dones:
        if isinstance(done, _LoopWaiter):
            by_loop.setdefault(done.loop, []).append((done.future, None))
        else:
            _guarded(done, None)
    for loop, settled in by_loop.items():
        _guarded(loop.call_soon_threadsafe, _settle, settled)


def _settle(settled: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for future, error in settled:
        if future.done():  # its waiter was cancelled (the client went away): the rows stand regardless
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _guarded(call: Callable[..., object], *args: Any) -> None:
    """A caller's callback may not stop the writer (say, an event loop closed while it waited)."""
    try:
        call(*args)
    except Exception:
        log.exception("a group-commit callback failed")
