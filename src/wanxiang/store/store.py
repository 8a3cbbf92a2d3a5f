"""The store facade: one database, its repositories."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from wanxiang.store.batches import BatchStore
from wanxiang.store.callbacks import CallbackStore
from wanxiang.store.db import migrate, open_engine
from wanxiang.store.executions import ExecutionStore
from wanxiang.store.jobs import JobStore
from wanxiang.store.queue import JobQueue
from wanxiang.store.queues import QueueStore
from wanxiang.store.stats import StatsStore
from wanxiang.store.styles import StyleStore
from wanxiang.store.templates import TemplateStore
from wanxiang.store.testmodes import TestModeStore
from wanxiang.store.workflows import WorkflowStore


@dataclass
class Store:
    engine: Engine
    jobs: JobStore = field(init=False)  # the API side of the jobs table
    job_queue: JobQueue = field(init=False)  # the worker side: claim, renew, finish, release
    queues: QueueStore = field(init=False)
    templates: TemplateStore = field(init=False)
    callbacks: CallbackStore = field(init=False)
    batches: BatchStore = field(init=False)
    workflows: WorkflowStore = field(init=False)
    executions: ExecutionStore = field(init=False)
    styles: StyleStore = field(init=False)
    stats: StatsStore = field(init=False)
    test_modes: TestModeStore = field(init=False)  # dev mode only

    def __post_init__(self) -> None:
        self.jobs = JobStore(self.engine)
        self.job_queue = JobQueue(self.engine)
        self.queues = QueueStore(self.engine, wake_hooks=self.jobs.wake_hooks)
        self.templates = TemplateStore(self.engine)
        self.callbacks = CallbackStore(self.engine)
        self.batches = BatchStore(self.engine)
        self.workflows = WorkflowStore(self.engine)
        self.executions = ExecutionStore(self.engine)
        self.styles = StyleStore(self.engine)
        self.stats = StatsStore(self.engine)
        self.test_modes = TestModeStore(self.engine)

    @classmethod
    def open(
        cls, url: str, *, schema: str | None = None, run_migrations: bool = True, synchronous: str = "FULL"
    ) -> Store:
        """``synchronous`` (SQLite): FULL where a commit acknowledges something to a client;
        workers may use NORMAL, since a lost claim or finish only means the job runs again."""
        engine = open_engine(url, schema=schema, synchronous=synchronous)
        if run_migrations:
            migrate(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.jobs.close()
        self.engine.dispose()
