"""Templates of every Tag in one table; the tag's params tree is kept as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from wanxiang.model.template import Template
from wanxiang.model.tree import Tree
from wanxiang.store import schema
from wanxiang.store.codec import dumps, from_us, to_us
from wanxiang.store.tx import read, write

t = schema.templates


def _row(row: Any) -> Template:
    created, updated = from_us(row.create_us), from_us(row.update_us)
    assert created and updated
    return Template(
        template_id=row.template_id,
        bucket_id=row.bucket_id,
        tag=row.tag,
        name=row.name,
        category=row.category,
        params=json.loads(row.body),
        create_time=created,
        update_time=updated,
    )


@dataclass
class TemplateStore:
    engine: Engine

    def insert(self, template: Template) -> None:
        with write(self.engine) as conn:
            conn.execute(
                insert(t).values(
                    template_id=template.template_id,
                    bucket_id=template.bucket_id,
                    tag=template.tag,
                    name=template.name,
                    category=template.category,
                    body=dumps(template.params),
                    create_us=to_us(template.create_time),
                    update_us=to_us(template.update_time),
                )
            )

    def get(self, bucket_id: str, template_id: str) -> Template | None:
        with read(self.engine) as conn:
            row = conn.execute(select(t).where(t.c.bucket_id == bucket_id, t.c.template_id == template_id)).first()
        return _row(row) if row else None

    def update(self, bucket_id: str, template_id: str, name: str, params: Tree, now: datetime) -> Template | None:
        with write(self.engine) as conn:
            conn.execute(
                update(t)
                .where(t.c.bucket_id == bucket_id, t.c.template_id == template_id)
                .values(name=name, body=dumps(params), update_us=to_us(now))
            )
        return self.get(bucket_id, template_id)

    def delete(self, bucket_id: str, template_id: str) -> bool:
        with write(self.engine) as conn:
            done = conn.execute(delete(t).where(t.c.bucket_id == bucket_id, t.c.template_id == template_id))
        return bool(done.rowcount)

    def list(
        self,
        bucket_id: str,
        *,
        tag: str | None = None,
        ids: Sequence[str] = (),
        name: str | None = None,
        page_number: int = 1,
        page_size: int = 10,
    ) -> tuple[list[Template], int]:
        conds = [t.c.bucket_id == bucket_id]
        if tag:
            conds.append(t.c.tag == tag)
        if ids:
            conds.append(t.c.template_id.in_(list(ids)))
        if name:
            conds.append(t.c.name.startswith(name, autoescape=True))
        with read(self.engine) as conn:
            total = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar_one()
            rows = conn.execute(
                select(t).where(*conds).order_by(t.c.seq.desc()).offset((page_number - 1) * page_size).limit(page_size)
            ).all()
        return [_row(r) for r in rows], int(total)
