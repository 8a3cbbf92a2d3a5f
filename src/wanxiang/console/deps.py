"""The services the console uses: the process's own, so a console action and an API call take
one path to the store."""

from __future__ import annotations

from dataclasses import dataclass

from wanxiang.config import Settings
from wanxiang.services.batches import BatchService
from wanxiang.services.jobs import JobService
from wanxiang.services.queues import QueueService
from wanxiang.services.runs import RunPlanner
from wanxiang.services.styles import StyleService
from wanxiang.services.templates import TemplateService
from wanxiang.services.workflows import WorkflowService
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store


@dataclass
class ConsoleDeps:
    settings: Settings
    store: Store
    storage: ObjectStorage
    jobs: JobService
    queues: QueueService
    templates: TemplateService
    styles: StyleService
    batches: BatchService
    workflows: WorkflowService

    @classmethod
    def from_services(cls, services: object) -> ConsoleDeps:
        """From the API's service bundle (settings, store, storage, jobs, queues, templates)."""
        settings: Settings = services.settings  # type: ignore[attr-defined]
        store: Store = services.store  # type: ignore[attr-defined]
        jobs: JobService = services.jobs  # type: ignore[attr-defined]
        planner = RunPlanner(store, jobs)
        return cls(
            settings=settings,
            store=store,
            storage=services.storage,  # type: ignore[attr-defined]
            jobs=jobs,
            queues=services.queues,  # type: ignore[attr-defined]
            templates=services.templates,  # type: ignore[attr-defined]
            styles=StyleService(store),
            batches=BatchService(store, jobs, planner, allow_private_callbacks=settings.allow_private_callbacks),
            workflows=WorkflowService(store, planner),
        )
