"""Dev mode: empty everything (reset), load a folder of objects (seed), set test modes, advance jobs."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select

from wanxiang.model import times
from wanxiang.model.errors import CIError, invalid_argument
from wanxiang.model.job import Job
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.schema import jobs, metadata
from wanxiang.store.store import Store
from wanxiang.store.testmodes import GLOBAL, MODES, ModeSetting
from wanxiang.store.tx import write


@dataclass(frozen=True)
class ResetCounts:
    buckets: int
    objects: int
    rows: int


@dataclass(frozen=True)
class SeedFile:
    bucket: str
    key: str
    path: Path
    content_type: str


def seed_files(root: Path) -> Iterator[SeedFile]:
    """``root/<bucket>/<key...>`` files, in name order; hidden files and folders are skipped."""
    if not root.is_dir():
        raise ValueError(f"seed folder {root} does not exist")
    for bucket_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(bucket_dir.rglob("*")):
            relative = path.relative_to(bucket_dir)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                yield SeedFile(bucket_dir.name, relative.as_posix(), path, content_type)


@dataclass
class DevService:
    store: Store
    storage: ObjectStorage
    region: str
    clock: Callable[[], datetime] = times.now

    def reset(self, settle_seconds: float = 30.0) -> ResetCounts:
        """Every row of every table (jobs, queues, templates, workflows, styles, batches, test modes...)
        and every object and bucket, gone; the schema version stays.

        Jobs a worker is running are let finish first (for at most ``settle_seconds``), so that their
        outputs land before the objects are wiped rather than after."""
        self._settle(settle_seconds)
        rows = 0
        with write(self.store.engine) as conn:
            for table in reversed(metadata.sorted_tables):
                rows += int(conn.execute(delete(table)).rowcount or 0)
        self.store.queues.forget_buckets()
        buckets = self.storage.list_buckets()
        objects = 0
        for bucket in buckets:
            objects += self._empty(bucket)
        return ResetCounts(len(buckets), objects, rows)

    def _settle(self, seconds: float) -> None:
        waiting = jobs.c.state == "Submitted"
        held = jobs.c.lease_owner.in_(("manual-hold", "manual-go"))
        running = (jobs.c.state == "Running") & (jobs.c.lease_owner.is_(None) | ~held)
        with write(self.store.engine) as conn:  # nothing new may start
            conn.execute(delete(jobs).where(waiting | ((jobs.c.state == "Running") & held)))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.store.engine.connect() as conn:
                if not conn.execute(select(func.count()).select_from(jobs).where(running)).scalar():
                    return
            time.sleep(0.05)

    def _empty(self, bucket: str) -> int:
        deleted = 0
        while True:
            page = self.storage.list(bucket, max_keys=1000)
            for meta in page.objects:
                deleted += int(self.storage.delete(bucket, meta.key))
            if not page.objects:
                break
        self.storage.delete_bucket(bucket)  # with its unfinished multipart uploads
        return deleted

    def seed(self, root: Path) -> list[SeedFile]:
        """Load ``root/<bucket>/<key>`` as objects; a file already there with the same bytes is left be."""
        import hashlib

        loaded: list[SeedFile] = []
        for item in seed_files(root):
            self.store.queues.ensure_bucket(item.bucket, self.region, self.clock())
            self.storage.create_bucket(item.bucket)
            existing = self.storage.head(item.bucket, item.key)
            digest = f'"{hashlib.md5(item.path.read_bytes()).hexdigest()}"'
            if existing is None or existing.etag != digest or existing.content_type != item.content_type:
                self.storage.put(item.bucket, item.key, item.path, content_type=item.content_type)
            loaded.append(item)
        return loaded

    def set_mode(self, mode: str, queue_id: str, tag: str, count: str, code: str, message: str) -> ModeSetting:
        if mode not in MODES:
            raise invalid_argument(f"Mode must be one of {', '.join(MODES)}, not {mode!r}.")
        fail_left = 0
        if mode == "fail-next":
            if not (count.isascii() and count.isdigit()) or not 0 < int(count) <= 1_000_000:
                raise invalid_argument("fail-next needs Count, a whole number from 1 to 1000000.")
            if not code.strip():
                raise invalid_argument("fail-next needs the Code the jobs should fail with.")
            fail_left = int(count)
        if queue_id and self.store.queues.get(queue_id) is None:
            raise CIError(404, "NoSuchQueue", f"The queue {queue_id!r} does not exist.")
        chosen = ModeSetting(queue_id or GLOBAL, mode, tag, fail_left, code.strip(), message)
        self.store.test_modes.set(chosen, self.clock())
        return chosen

    def advance(self, job_id: str, *, finish: bool) -> Job:
        if not self.store.job_queue.advance(job_id, self.clock(), finish=finish):
            job = self.store.jobs.get(job_id)
            if job is None:
                raise CIError(404, "NoSuchJob", f"The job {job_id} does not exist.")
            raise CIError(409, "InvalidJobState", f"The job {job_id} is {job.state.value}; only a Submitted "
                          "job, or one an advance left Running, can be advanced.")
        for hook in self.store.jobs.wake_hooks:  # SQLite workers poll: ring them
            hook()
        job = self.store.jobs.get(job_id)
        assert job is not None
        return job
