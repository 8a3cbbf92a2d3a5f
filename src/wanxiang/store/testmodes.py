"""Test modes (dev mode only): how workers treat the jobs of a queue, or of every queue (scope ``*``).

``normal``; ``manual`` (the claim skips the queue's Submitted jobs until ``advance`` moves them);
``fail-next`` (the next ``count`` jobs, optionally of one Tag, end Failed with ``code``);
``instant`` (a submit answers once its jobs have ended). A queue's own row wins over the global one.
The claim side of ``manual`` is in ``queue.sql`` (``{hold_filter}``, ``claim_advanced``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from wanxiang.store.codec import to_us
from wanxiang.store.schema import metadata
from wanxiang.store.tx import read, write

MODES = ("normal", "manual", "fail-next", "instant")
GLOBAL = "*"

test_modes = Table(
    "test_modes",
    metadata,
    Column("scope", String(64), primary_key=True),  # a QueueId, or "*" for every queue
    Column("mode", String(16), nullable=False),
    Column("tag", String(64), nullable=False, default=""),
    Column("fail_left", Integer, nullable=False, default=0),
    Column("fail_code", String(128), nullable=False, default=""),
    Column("fail_message", Text, nullable=False, default=""),
    Column("update_us", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class ModeSetting:
    scope: str
    mode: str
    tag: str = ""
    fail_left: int = 0
    fail_code: str = ""
    fail_message: str = ""


@dataclass
class TestModeStore:
    engine: Engine

    def set(self, mode: ModeSetting, now: datetime) -> None:
        """Replace the scope's mode; ``normal`` simply removes it."""
        with write(self.engine) as conn:
            conn.execute(delete(test_modes).where(test_modes.c.scope == mode.scope))
            if mode.mode != "normal":
                conn.execute(insert(test_modes).values(
                    scope=mode.scope, mode=mode.mode, tag=mode.tag, fail_left=mode.fail_left,
                    fail_code=mode.fail_code, fail_message=mode.fail_message, update_us=to_us(now)))

    def list(self) -> list[ModeSetting]:
        with read(self.engine) as conn:
            rows = conn.execute(select(test_modes).order_by(test_modes.c.scope)).all()
        return [ModeSetting(r.scope, r.mode, r.tag, r.fail_left, r.fail_code, r.fail_message) for r in rows]

    def mode_for(self, queue_id: str) -> str:
        by_scope = {m.scope: m.mode for m in self.list() if m.scope in (queue_id, GLOBAL)}
        return by_scope.get(queue_id) or by_scope.get(GLOBAL) or "normal"

    def take_failure(self, queue_id: str, tag: str) -> tuple[str, str] | None:
        """Use up one planned failure for a job of ``queue_id`` and ``tag``: its (Code, Message), or None."""
        t = test_modes.c
        with write(self.engine) as conn:
            found = conn.execute(select(test_modes).where(t.scope.in_((queue_id, GLOBAL)))).all()
            rows = sorted(found, key=lambda r: r.scope == GLOBAL)  # the queue's own mode first
            if not rows or rows[0].mode != "fail-next":
                return None
            row = rows[0]
            if row.fail_left <= 0 or row.tag not in ("", tag):
                return None
            taken = conn.execute(
                update(test_modes).where(t.scope == row.scope, t.fail_left > 0).values(fail_left=t.fail_left - 1)
            ).rowcount
            return (row.fail_code, row.fail_message) if taken else None
