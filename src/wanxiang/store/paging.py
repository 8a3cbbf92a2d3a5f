"""Keyset pages, shared by every list of the API: a page costs O(page) however long the table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, Table, and_, select

from wanxiang.store.codec import decode_token, encode_token, to_us
from wanxiang.store.tx import read


def keyset_page(
    engine: Engine,
    table: Table,
    conds: list[ColumnElement[bool]],
    *,
    states: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    ascending: bool,
    size: int,
    next_token: str | None,
) -> tuple[list[Row[Any]], str]:
    """One page of ``table`` (which has ``seq``, ``state`` and ``create_us``) and the NextToken of
    the next one ('' when there is none). The token is the last ``seq`` served, so rows added
    while a client pages appear on no later page and none is served twice."""
    c = table.c
    where = list(conds)
    if states:
        where.append(c.state.in_(list(states)))
    if start:
        where.append(c.create_us >= to_us(start))
    if end:
        where.append(c.create_us <= to_us(end))
    if next_token:
        after = decode_token(next_token)
        where.append(c.seq > after if ascending else c.seq < after)
    order = c.seq.asc() if ascending else c.seq.desc()
    with read(engine) as conn:
        rows = list(conn.execute(select(table).where(and_(*where)).order_by(order).limit(size + 1)).all())
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_token(rows[-1].seq) if more and rows else ""
