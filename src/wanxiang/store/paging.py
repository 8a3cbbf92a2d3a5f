"""Keyset pages, shared by every list of the API: a page costs O(page) however long the table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, Table, and_, select

from wanxiang.store.codec import decode_token, encode_token, to_us
from wanxiang.store.tx import read


@dataclass(frozen=True)
class PageWindow:
    """What every keyset list shares: states, the creation-time range, order, size and cursor."""

    states: Sequence[str] = ()
    start_creation: datetime | None = None
    end_creation: datetime | None = None
    ascending: bool = False
    size: int = 10
    next_token: str | None = None


def keyset_page(
    engine: Engine, table: Table, conds: list[ColumnElement[bool]], window: PageWindow
) -> tuple[list[Row[Any]], str]:
    """One page of ``table`` (which has ``seq``, ``state`` and ``create_us``) and the NextToken of
    the next one ('' when there is none). The token is the last ``seq`` served, so rows added
    while a client pages appear on no later page and none is served twice."""
    c, w = table.c, window
    where = list(conds)
    if w.states:
        where.append(c.state.in_(list(w.states)))
    if w.start_creation:
        where.append(c.create_us >= to_us(w.start_creation))
    if w.end_creation:
        end_us = to_us(w.end_creation)
        # CI times have whole seconds: endCreationTime=T takes in every job created during T.
        where.append(c.create_us < end_us + 1_000_000 if w.end_creation.microsecond == 0 else c.create_us <= end_us)
    if w.next_token:
        after = decode_token(w.next_token)
        where.append(c.seq > after if w.ascending else c.seq < after)
    order = c.seq.asc() if w.ascending else c.seq.desc()
    with read(engine) as conn:
        rows = list(conn.execute(select(table).where(and_(*where)).order_by(order).limit(w.size + 1)).all())
    more = len(rows) > w.size
    rows = rows[: w.size]
    return rows, encode_token(rows[-1].seq) if more and rows else ""
