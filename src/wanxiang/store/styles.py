"""Image styles: a bucket's named ProcessRules. Putting a name again replaces its body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from wanxiang.store.codec import from_us, to_us
from wanxiang.store.schema_styles import styles
from wanxiang.store.tx import read, write

s = styles


@dataclass(frozen=True)
class StyleRule:
    bucket_id: str
    name: str
    body: str
    create_time: datetime
    update_time: datetime


def _row(row: Any) -> StyleRule:
    created, updated = from_us(row.create_us), from_us(row.update_us)
    assert created and updated
    return StyleRule(row.bucket_id, row.name, row.body, created, updated)


@dataclass
class StyleStore:
    engine: Engine

    def put(self, bucket_id: str, name: str, body: str, now: datetime) -> None:
        """Add the style, or replace the body of the one with this name."""
        try:
            self._put_once(bucket_id, name, body, to_us(now))
        except IntegrityError:
            # Another request added the same name between our update and insert: replace its body.
            self._put_once(bucket_id, name, body, to_us(now))

    def _put_once(self, bucket_id: str, name: str, body: str, now_us: int) -> None:
        with write(self.engine) as conn:
            done = conn.execute(
                update(s).where(s.c.bucket_id == bucket_id, s.c.name == name).values(body=body, update_us=now_us)
            )
            if not done.rowcount:
                conn.execute(
                    insert(s).values(bucket_id=bucket_id, name=name, body=body, create_us=now_us, update_us=now_us)
                )

    def get(self, bucket_id: str, name: str) -> StyleRule | None:
        with read(self.engine) as conn:
            row = conn.execute(select(s).where(s.c.bucket_id == bucket_id, s.c.name == name)).first()
        return _row(row) if row else None

    def list(self, bucket_id: str, names: Sequence[str] = ()) -> list[StyleRule]:
        """The bucket's styles in the order they were first added (only ``names`` if given)."""
        conds = [s.c.bucket_id == bucket_id]
        if names:
            conds.append(s.c.name.in_(list(names)))
        with read(self.engine) as conn:
            rows = conn.execute(select(s).where(*conds).order_by(s.c.seq)).all()
        return [_row(r) for r in rows]

    def delete(self, bucket_id: str, names: Sequence[str]) -> int:
        """Delete the named styles; how many existed."""
        if not names:
            return 0
        with write(self.engine) as conn:
            done = conn.execute(delete(s).where(s.c.bucket_id == bucket_id, s.c.name.in_(list(names))))
        return int(done.rowcount or 0)
