"""Group commit for SQLite: one thread and one connection write for every caller in the process.

SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in its busy
handler instead of being woken, so concurrent submits queue behind each other's sleeps and each
pays its own commit (and fsync). Here a caller hands its rows to the writer and waits; the writer
takes everything waiting at that moment, writes it in one transaction, commits once and only then
answers each caller. Nothing is acknowledged before its commit. If the batch fails, each caller's
rows are retried alone, so one bad request fails only itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine

from wanxiang.store.tx import write

Request = Any  # what one caller hands over (a job insert: its rows and whether the queue is bounded)
WriteRequests = Callable[[Connection, Sequence[Request]], None]
MAX_BATCH = 256  # callers per transaction


class GroupWriter:
    def __init__(self, engine: Engine, write_requests: WriteRequests) -> None:
        self.engine = engine
        self.write_requests = write_requests
        self._pending: queue.SimpleQueue[tuple[Request, Future[None]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def write(self, request: Request) -> None:
        """Write ``request``; returns once it is committed (raises what writing it raised)."""
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="sqlite-group-writer", daemon=True)
                    self._thread.start()
        done: Future[None] = Future()
        self._pending.put((request, done))
        done.result()

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
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Request, Future[None]]]) -> None:
        try:
            with write(self.engine) as conn:
                self.write_requests(conn, [request for request, _ in batch])
        except BaseException as error:  # noqa: BLE001 - each caller learns its own outcome
            if len(batch) == 1:
                batch[0][1].set_exception(error)
            else:
                for item in batch:
                    self._commit([item])
            return
        for _, done in batch:
            done.set_result(None)
