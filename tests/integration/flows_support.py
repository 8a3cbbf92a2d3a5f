"""Running batch jobs and workflows in-process on a real store and a local bucket folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.model import times
from wanxiang.services.batches import BatchService
from wanxiang.services.context import BucketContext
from wanxiang.services.workflows import WorkflowService
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store
from wanxiang.worker.batches import BatchWalker
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

REGION = "ap-guangzhou"


@dataclass
class Flows:
    store: Store
    storage: ObjectStorage
    ctx: BucketContext
    batches: BatchService
    workflows: WorkflowService
    worker: Worker
    walker: BatchWalker

    def step(self) -> bool:
        """One round of everything a worker process does: walk, settle, advance, run one job."""
        did = self.walker.walk_once()
        did = self.walker.settle_once() or did
        did = self.worker.run_once() or did
        return did

    def run_until(self, done: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError("the flow did not finish in time")
            if not self.step():
                time.sleep(0.01)


def make_flows(store: Store, storage: ObjectStorage, bucket: str, page_size: int = 1000) -> Flows:
    storage.create_bucket(bucket)
    store.queues.ensure_bucket(bucket, REGION, times.now())
    app = App.build(Settings(allow_private_callbacks=True), store, storage, side="worker")
    # The walker is stepped by hand (see Flows.step); the worker keeps only the run advancer.
    worker = Worker(store, storage, PollWaiter(), lease_seconds=30, side_tasks=[app.execution_advancer().advance_once])
    return Flows(
        store=store,
        storage=storage,
        ctx=BucketContext(bucket, REGION),
        batches=app.batches,
        workflows=app.workflows,
        worker=worker,
        walker=app.batch_walker(page_size=page_size),
    )
