"""How an idle worker waits for work: LISTEN/NOTIFY on PostgreSQL, a short poll on SQLite."""

from __future__ import annotations

import logging
import time
from typing import Protocol

log = logging.getLogger("wanxiang.worker")


class Waiter(Protocol):
    def wait(self, timeout: float) -> None: ...

    def reset(self) -> None: ...


class PollWaiter:
    """SQLite has no notifications; poll, backing off while idle so an idle server costs nothing."""

    def __init__(self, first: float = 0.02, longest: float = 0.5) -> None:
        self.first, self.longest, self.current = first, longest, first

    def wait(self, timeout: float) -> None:
        time.sleep(min(self.current, timeout))
        self.current = min(self.current * 2, self.longest)

    def reset(self) -> None:
        self.current = self.first


class ListenWaiter:
    """Sleep until a NOTIFY on the jobs channel (or the timeout)."""

    def __init__(self, dsn: str, channel: str, schema: str | None = None) -> None:
        import psycopg

        options = f"-csearch_path={schema}" if schema else ""
        self.conn = psycopg.connect(dsn, autocommit=True, options=options) if options else psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f"LISTEN {channel}")

    def wait(self, timeout: float) -> None:
        try:
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                break
        except Exception:  # a broken listener degrades to a plain sleep, never to a dead worker
            log.exception("LISTEN connection failed; sleeping instead")
            time.sleep(timeout)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self.conn.close()
