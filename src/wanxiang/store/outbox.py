"""Writing to the callback outbox: one ``enqueue`` inside the transaction that owes the
notifications (a job's finish, a workflow run's settle). Delivery reads them back through
``wanxiang.store.callbacks``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert

from wanxiang.store import schema


@dataclass(frozen=True)
class PendingCallback:
    """A notification to deliver, its body already rendered."""

    event: str
    url: str
    content_type: str
    payload: str


def enqueue(conn: Connection, owner_id: str, callbacks: Sequence[PendingCallback], now_us: int) -> None:
    """Queue ``callbacks`` of job or run ``owner_id`` for delivery now, in the caller's transaction."""
    if not callbacks:
        return
    conn.execute(
        insert(schema.callbacks),
        [
            {
                "job_id": owner_id,
                "event": cb.event,
                "url": cb.url,
                "content_type": cb.content_type,
                "payload": cb.payload,
                "state": "Pending",
                "attempts": 0,
                "next_attempt_us": now_us,
                "last_error": "",
                "create_us": now_us,
            }
            for cb in callbacks
        ],
    )
