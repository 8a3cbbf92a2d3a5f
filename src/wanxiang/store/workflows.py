"""Workflows in the store: create, update, state, delete, list by page, and the Active ones of a bucket."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from wanxiang.model.workflow import Workflow, WorkflowState
from wanxiang.store.codec import dumps, from_us, to_us
from wanxiang.store.schema_flows import workflows
from wanxiang.store.tx import read, write

w = workflows


def row_to_workflow(row: Any) -> Workflow:
    created, updated = from_us(row.create_us), from_us(row.update_us)
    assert created is not None and updated is not None
    return Workflow(
        workflow_id=row.workflow_id,
        bucket_id=row.bucket_id,
        region=row.region,
        name=row.name,
        state=WorkflowState(row.state),
        topology=json.loads(row.body),
        create_time=created,
        update_time=updated,
    )


@dataclass
class WorkflowStore:
    engine: Engine

    def insert(self, workflow: Workflow) -> None:
        with write(self.engine) as conn:
            conn.execute(
                insert(w).values(
                    workflow_id=workflow.workflow_id,
                    bucket_id=workflow.bucket_id,
                    region=workflow.region,
                    name=workflow.name,
                    state=workflow.state.value,
                    body=dumps(workflow.topology),
                    create_us=to_us(workflow.create_time),
                    update_us=to_us(workflow.update_time),
                )
            )

    def update(self, workflow: Workflow) -> None:
        with write(self.engine) as conn:
            conn.execute(
                update(w)
                .where(w.c.workflow_id == workflow.workflow_id)
                .values(
                    name=workflow.name,
                    state=workflow.state.value,
                    body=dumps(workflow.topology),
                    update_us=to_us(workflow.update_time),
                )
            )

    def set_state(self, bucket_id: str, workflow_id: str, state: WorkflowState, now: datetime) -> bool:
        with write(self.engine) as conn:
            done = conn.execute(
                update(w)
                .where(w.c.bucket_id == bucket_id, w.c.workflow_id == workflow_id)
                .values(state=state.value, update_us=to_us(now))
            ).rowcount
        return bool(done)

    def delete(self, bucket_id: str, workflow_id: str) -> bool:
        with write(self.engine) as conn:
            done = conn.execute(delete(w).where(w.c.bucket_id == bucket_id, w.c.workflow_id == workflow_id)).rowcount
        return bool(done)

    def get(self, bucket_id: str, workflow_id: str) -> Workflow | None:
        with read(self.engine) as conn:
            row = conn.execute(select(w).where(w.c.bucket_id == bucket_id, w.c.workflow_id == workflow_id)).first()
        return row_to_workflow(row) if row else None

    def list(
        self, bucket_id: str, *, ids: Sequence[str] = (), name: str = "", page_number: int = 1, page_size: int = 10
    ) -> tuple[list[Workflow], int]:
        conds = [w.c.bucket_id == bucket_id]
        if ids:
            conds.append(w.c.workflow_id.in_(list(ids)))
        if name:
            conds.append(w.c.name == name)
        with read(self.engine) as conn:
            total = conn.execute(select(func.count()).select_from(w).where(*conds)).scalar_one()
            rows = conn.execute(
                select(w).where(*conds).order_by(w.c.seq.desc())
                .offset((page_number - 1) * page_size).limit(page_size)
            ).all()
        return [row_to_workflow(r) for r in rows], int(total)

    def active_in_bucket(self, bucket_id: str) -> builtins.list[Workflow]:
        with read(self.engine) as conn:
            rows = conn.execute(
                select(w).where(w.c.bucket_id == bucket_id, w.c.state == WorkflowState.ACTIVE.value).order_by(w.c.seq)
            ).all()
        return [row_to_workflow(r) for r in rows]
