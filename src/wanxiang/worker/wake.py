"""How an idle worker waits for work: LISTEN/NOTIFY on PostgreSQL, a short poll on SQLite."""

from __future__ import annotations

import logging
import time
from typing import Protocol

log = logging.getLogger("wanxiang.worker")


class Waiter(Protocol):
    def wait(self, timeout: float) -> bool:
        """Sleep until new work may be there, or ``timeout``; True when woken by a signal of it."""
        ...

    def reset(self) -> None:
        """The worker found work (called as soon as it has claimed a job)."""
        ...


class Doorbell(Protocol):
    """A cross-process wake-up (``multiprocessing.Event``): the API rings it after a submit."""

    def wait(self, timeout: float | None = None) -> bool: ...

    def clear(self) -> None: ...

    def set(self) -> None: ...


class PollWaiter:
    """SQLite has no notifications: sleep on the embedded server's doorbell when there is one,
    and poll, backing off while idle, for work that rings no bell (another process's inserts).

    The doorbell is one flag for every worker process: the first to wake clears it, and a worker
    that was not yet asleep then sleeps through a ring meant for it too (two jobs submitted at
    once: one worker runs the first, the other sleeps while the second waits). So a worker that
    woke to the bell and found work rings it again: the next sleeper looks as well."""

    def __init__(self, first: float = 0.02, longest: float = 0.25, doorbell: Doorbell | None = None) -> None:
        self.first, self.longest, self.current = first, longest, first
        self.doorbell = doorbell
        self._rung = False

    def wait(self, timeout: float) -> bool:
        pause = min(self.current, timeout)
        self._rung = False
        if self.doorbell is not None:
            if self.doorbell.wait(pause):
                self.doorbell.clear()
                self.current = self.first
                self._rung = True
                return True
        else:
            time.sleep(pause)
        self.current = min(self.current * 2, self.longest)
        return False

    def reset(self) -> None:
        self.current = self.first
        if self._rung and self.doorbell is not None:
            self.doorbell.set()  # pass the ring on
        self._rung = False


class ListenWaiter:
    """Sleep until a NOTIFY on the jobs channel (or the timeout)."""

    def __init__(self, dsn: str, channel: str, schema: str | None = None) -> None:
        import psycopg

        options = f"-csearch_path={schema}" if schema else ""
        self.conn = psycopg.connect(dsn, autocommit=True, options=options) if options else psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f"LISTEN {channel}")

    def wait(self, timeout: float) -> bool:
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                return True
        except Exception:  # a broken listener degrades to a plain sleep, never to a dead worker
            log.exception("LISTEN connection failed; sleeping instead")
            time.sleep(timeout)
        return False

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self.conn.close()
