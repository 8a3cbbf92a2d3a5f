"""The composition root: one ``App`` per process, built once from ``Settings``.

It holds the store, the object storage and every service; the HTTP routes and the worker take
their services from it and build none of their own. The API process builds the ``api`` side; a
worker process builds the ``worker`` side from the same Settings, which adds the worker's side
tasks (batch walks, workflow steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.applications import Starlette

from wanxiang import console
from wanxiang.api import batch_routes, ci_routes, dev_routes, object_routes, refusals, workflow_routes
from wanxiang.api.app import create_app
from wanxiang.api.router import Router
from wanxiang.callbacks.deliver import Deliverer
from wanxiang.callbacks.mq import MqPublisher
from wanxiang.config import Settings
from wanxiang.ops.health import Readiness, database_check, queue_depth, storage_check
from wanxiang.services.batches import BatchService
from wanxiang.services.dev import DevService
from wanxiang.services.executions import ExecutionPlanner
from wanxiang.services.jobs import JobService
from wanxiang.services.pic_cache import PicResultCache
from wanxiang.services.pic_pool import PicPool, PoolLimits
from wanxiang.services.pic_processing import PicProcessing
from wanxiang.services.queues import QueueService
from wanxiang.services.styles import StyleService
from wanxiang.services.templates import TemplateService
from wanxiang.services.workflows import WorkflowService
from wanxiang.storage.base import ObjectStorage
from wanxiang.storage.registry import open_storage
from wanxiang.store.store import Store
from wanxiang.worker.batches import PAGE_SIZE, BatchWalker
from wanxiang.worker.deadlines import JobDeadlines
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import Waiter
from wanxiang.worker.workflows import ExecutionAdvancer

Side = Literal["api", "worker"]


@dataclass
class App:
    settings: Settings
    side: Side
    store: Store
    storage: ObjectStorage
    jobs: JobService
    queues: QueueService
    templates: TemplateService
    styles: StyleService
    planner: ExecutionPlanner
    batches: BatchService
    workflows: WorkflowService
    pic: PicProcessing
    dev: DevService  # reset, seed, test modes: reachable over HTTP only in dev mode

    @classmethod
    def build(cls, settings: Settings, store: Store, storage: ObjectStorage, *, side: Side = "api") -> App:
        # A worker submits only what the API already accepted (batch children, workflow steps),
        # whose callbacks were checked then with the server's policy: it does not check again.
        allow_private = settings.allow_private_callbacks or side == "worker"
        mq = bool(settings.mq_url) or side == "worker"
        styles = StyleService(store)
        jobs = JobService(store, allow_private_callbacks=allow_private, mq_callbacks=mq, styles=styles)
        planner = ExecutionPlanner(store, jobs)
        return cls(
            settings=settings,
            side=side,
            store=store,
            storage=storage,
            jobs=jobs,
            queues=QueueService(store, allow_private_callbacks=allow_private, mq_callbacks=mq),
            templates=TemplateService(store),
            styles=styles,
            planner=planner,
            batches=BatchService(store, jobs, planner, allow_private_callbacks=allow_private, mq_callbacks=mq),
            workflows=WorkflowService(store, planner, mq_callbacks=mq),
            pic=PicProcessing(
                storage,
                styles,
                PicPool(storage, settings.resolved_storage_url(), _pool_limits(settings)),
                PicResultCache(settings.pic_cache_bytes) if settings.pic_cache_bytes > 0 else None,
            ),
            dev=DevService(store, storage, settings.region),
        )

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        schema: str | None = None,
        side: Side = "api",
        run_migrations: bool = True,
        synchronous: str = "FULL",
    ) -> App:
        """Open the store and the storage that ``settings`` name, and build on them."""
        store = Store.open(
            settings.resolved_database_url(), schema=schema, run_migrations=run_migrations, synchronous=synchronous
        )
        return cls.build(settings, store, open_storage(settings.resolved_storage_url()), side=side)

    # -- the API side -----------------------------------------------------------------------------

    def http(self, readiness: Readiness | None = None) -> Starlette:
        """The HTTP app: the CI routes, then the object routes with their image features; the
        operator's routes answer ``readiness`` (by default: the database and the storage)."""
        if readiness is None:
            readiness = Readiness({"database": database_check(self.store), "storage": storage_check(self.storage)})
        router = Router()
        ci_routes.register(router, self)
        batch_routes.register(router, self)
        workflow_routes.register(router, self)
        refusals.register(router)  # CI features not implemented: 501, before objects could answer
        object_routes.register(router, self)  # with styles, image processing and workflow triggers
        if self.settings.dev:  # /-/reset, /-/test-mode, /-/jobs/<id>/advance; instant submits
            dev_routes.register(router, self)
        http = create_app(self.settings, router, readiness, lambda: queue_depth(self.store))
        console.mount(http, self)  # the web console at /-/console/
        return http

    # -- the worker side --------------------------------------------------------------------------

    def batch_walker(self, page_size: int = PAGE_SIZE, lease_seconds: float = 120.0) -> BatchWalker:
        return BatchWalker(self.store, self.storage, self.batches, page_size=page_size, lease_seconds=lease_seconds)

    def execution_advancer(self) -> ExecutionAdvancer:
        return ExecutionAdvancer(self.store, self.planner)

    def side_tasks(self) -> list[Callable[[], bool]]:
        """Durable work a worker does between jobs; each returns True when it did something."""
        walker = self.batch_walker()
        return [walker.walk_once, walker.settle_once, self.execution_advancer().advance_once]

    def worker(self, waiter: Waiter, lease_seconds: float | None = None) -> Worker:
        lease = self.settings.lease_seconds if lease_seconds is None else lease_seconds
        return Worker(
            self.store,
            self.storage,
            waiter,
            lease_seconds=lease,
            side_tasks=self.side_tasks(),
            deadlines=JobDeadlines.parse(self.settings.job_timeouts),
            dev=self.settings.dev,
        )

    # -- either side ------------------------------------------------------------------------------

    def deliverer(self) -> Deliverer:
        """Delivery of the callback outbox, with the server's policy for private addresses."""
        return Deliverer(
            self.store.callbacks,
            mq=MqPublisher(self.settings.mq_url) if self.settings.mq_url else None,
            allow_private=self.settings.allow_private_callbacks,
            backoff_seconds=self.settings.callback_backoff_seconds,
        )

    def close(self) -> None:
        self.pic.pool.shutdown()
        self.store.close()


def _pool_limits(settings: Settings) -> PoolLimits:
    return PoolLimits(
        processes=settings.pic_processes, backlog=settings.pic_backlog, memory_bytes=settings.pic_memory_bytes
    )
