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

from wanxiang.store.tx import write

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
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, committed, error)

        self.submit(request, done)
        await committed

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
            if self._commit(batch) and self.after_commit is not None:
                _guarded(self.after_commit)
            if stop:
                return

    def _commit(self, batch: list[tuple[Request, Done]]) -> bool:
        """Write and answer the batch; True if anything of it was committed."""
        try:
            with write(self.engine) as conn:
                self.write_requests(conn, [request for request, _ in batch])
        except BaseException as error:  # noqa: BLE001 - each caller learns its own outcome
            if len(batch) == 1:
                _guarded(batch[0][1], error)
                return False
            return any([self._commit([item]) for item in batch])
        for _, done in batch:
            _guarded(done, None)
        return True


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # its waiter was cancelled (the client went away): the rows stand regardless
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _guarded(call: Callable[..., None], *args: Any) -> None:
    """A caller's callback may not stop the writer (say, an event loop closed while it waited)."""
    try:
        call(*args)
    except Exception:
        log.exception("a group-commit callback failed")
