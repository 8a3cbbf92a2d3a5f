"""The workflow side task: move executions on when their node jobs finish, and settle finished ones.

Every step is idempotent: a node's job is added under a unique (execution, node) key, and an execution is
settled by a guarded UPDATE that also queues its WorkflowFinish callback, so any number of
workers may examine the same execution.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wanxiang.model import times
from wanxiang.model.workflow import Execution
from wanxiang.services.executions import ExecutionPlanner
from wanxiang.store.store import Store

# A job's end time is stamped just before its finish commits: look back this far past the last scan.
COMMIT_MARGIN = timedelta(seconds=2)
# Now and then examine every Running execution in turn, in case a change slipped past the watermark.
SWEEP_EVERY = 30.0


@dataclass
class ExecutionAdvancer:
    store: Store
    planner: ExecutionPlanner
    batch_size: int = 50
    clock: Callable[[], datetime] = times.now
    _watermark: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    _last_sweep: float = field(default_factory=time.monotonic)

    def advance_once(self) -> bool:
        """Examine executions whose jobs finished since the last look; True when one moved on or ended."""
        now = self.clock()
        if time.monotonic() - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = time.monotonic()
            executions = self.store.executions.running(now, self.batch_size)
        else:
            executions = self.store.executions.touched(self._watermark - COMMIT_MARGIN, now, self.batch_size)
            if len(executions) < self.batch_size:  # all caught up: later scans may start from here
                self._watermark = now
        moved = False
        for execution in executions:
            moved = self.advance(execution) or moved
        return moved

    def advance(self, execution: Execution) -> bool:
        tasks = self.store.executions.tasks(execution.run_id)
        steps = self.planner.next_steps(execution, tasks)
        if steps:
            added = [self.store.executions.add_task(execution.run_id, name, job) for name, job in steps]
            if any(added):
                self.store.jobs.wake()
            return any(added)
        state = self.planner.outcome(execution, tasks)
        if state is None:
            return False
        return self.store.executions.settle(execution.run_id, self.clock(), state, self.planner.finish_callbacks(execution, state, tasks))
