"""The use cases the HTTP handlers call, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from wanxiang.config import Settings
from wanxiang.services.jobs import JobService
from wanxiang.services.pic_pool import PicPool, PoolLimits
from wanxiang.services.queues import QueueService
from wanxiang.services.templates import TemplateService
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    storage: ObjectStorage
    jobs: JobService
    queues: QueueService
    templates: TemplateService
    pic_pool: PicPool

    @classmethod
    def build(cls, settings: Settings, store: Store, storage: ObjectStorage) -> Services:
        return cls(
            settings=settings,
            store=store,
            storage=storage,
            jobs=JobService(store, allow_private_callbacks=settings.allow_private_callbacks),
            queues=QueueService(store, allow_private_callbacks=settings.allow_private_callbacks),
            templates=TemplateService(store),
            pic_pool=PicPool(
                storage,
                settings.resolved_storage_url(),
                PoolLimits(
                    processes=settings.pic_processes,
                    backlog=settings.pic_backlog,
                    memory_bytes=settings.pic_memory_bytes,
                ),
            ),
        )
