"""The workflow side task: move runs on when their node jobs finish, and settle finished runs.

Every step is idempotent: a node's job is added under a unique (run, node) key, and a run is
settled by a guarded UPDATE that also queues its WorkflowFinish callback, so any number of
workers may examine the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wanxiang.model import times
from wanxiang.model.workflow import Execution
from wanxiang.services.jobs import JobService
from wanxiang.services.runs import RunPlanner
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store


@dataclass
class RunAdvancer:
    store: Store
    planner: RunPlanner
    batch_size: int = 50
    clock: Callable[[], datetime] = times.now

    def advance_once(self) -> bool:
        """Examine the least recently examined Running runs; True when one moved on or ended."""
        moved = False
        for run in self.store.executions.running(self.clock(), self.batch_size):
            moved = self.advance(run) or moved
        return moved

    def advance(self, run: Execution) -> bool:
        tasks = self.store.executions.tasks(run.run_id)
        steps = self.planner.next_steps(run, tasks)
        if steps:
            added = [self.store.executions.add_task(run.run_id, name, job) for name, job in steps]
            return any(added)
        state = self.planner.outcome(run, tasks)
        if state is None:
            return False
        return self.store.executions.settle(run.run_id, self.clock(), state, self.planner.finish_callbacks(run, state, tasks))


def build_advancer(store: Store) -> RunAdvancer:
    jobs = JobService(store, allow_private_callbacks=True)
    return RunAdvancer(store, RunPlanner(store, jobs))


def make_side_tasks(store: Store, storage: ObjectStorage) -> list[Callable[[], bool]]:
    return [build_advancer(store).advance_once]
