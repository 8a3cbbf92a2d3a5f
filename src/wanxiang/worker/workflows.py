"""The workflow side task: move runs on when their node jobs finish, and settle finished runs.

Every step is idempotent: a node's job is added under a unique (run, node) key, and a run is
settled by a guarded UPDATE that also queues its WorkflowFinish callback, so any number of
workers may examine the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wanxiang.model import times
from wanxiang.model.workflow import Execution
from wanxiang.services.runs import RunPlanner
from wanxiang.store.store import Store

# A job's end time is stamped just before its finish commits: look back this far past the last scan.
COMMIT_MARGIN = timedelta(seconds=2)
# Now and then examine every Running run in turn, in case a change slipped past the watermark.
SWEEP_EVERY = 30.0


@dataclass
class RunAdvancer:
    store: Store
    planner: RunPlanner
    batch_size: int = 50
    clock: Callable[[], datetime] = times.now
    _watermark: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    _last_sweep: float = field(default_factory=time.monotonic)

    def advance_once(self) -> bool:
        """Examine runs whose jobs finished since the last look; True when one moved on or ended."""
        now = self.clock()
        if time.monotonic() - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = time.monotonic()
            runs = self.store.executions.running(now, self.batch_size)
        else:
            runs = self.store.executions.touched(self._watermark - COMMIT_MARGIN, now, self.batch_size)
            if len(runs) < self.batch_size:  # all caught up: later scans may start from here
                self._watermark = now
        moved = False
        for run in runs:
            moved = self.advance(run) or moved
        return moved

    def advance(self, run: Execution) -> bool:
        tasks = self.store.executions.tasks(run.run_id)
        steps = self.planner.next_steps(run, tasks)
        if steps:
            added = [self.store.executions.add_task(run.run_id, name, job) for name, job in steps]
            if any(added):
                self.store.jobs.wake()
            return any(added)
        state = self.planner.outcome(run, tasks)
        if state is None:
            return False
        return self.store.executions.settle(run.run_id, self.clock(), state, self.planner.finish_callbacks(run, state, tasks))
