"""The batch side task: walk a batch's objects a page at a time, then settle it by its children.

Each call does at most one page of one batch, so jobs and other batches interleave with it; the
page's children and the cursor are committed together (see ``wanxiang.store.batches``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from wanxiang.model import times
from wanxiang.model.batch import Batch, BatchType, in_time_interval, settled_state
from wanxiang.model.job import JobState
from wanxiang.model.tree import text
from wanxiang.services.batches import BatchService, time_interval
from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store

log = logging.getLogger("wanxiang.batches")
PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    keys: list[str]
    cursor: str
    done: bool


def next_page(storage: ObjectStorage, batch: Batch, page_size: int) -> Page:
    """The keys after the batch's cursor, filtered, and where the next page starts."""
    if "Object" in batch.input:
        key = text(batch.input, "Object").lstrip("/")
        return Page([key] if storage.head(batch.bucket_id, key) is not None else [], key, True)
    if "UrlFile" in batch.input:
        return _url_file_page(storage, batch, page_size)
    listing = storage.list(batch.bucket_id, prefix=text(batch.input, "Prefix"), marker=batch.cursor, max_keys=page_size)
    start, end = time_interval(batch.operation)
    keys = [o.key for o in listing.objects if in_time_interval(o.last_modified, start, end)]
    cursor = listing.objects[-1].key if listing.objects else batch.cursor
    return Page(keys, cursor, not listing.is_truncated)


def _url_file_page(storage: ObjectStorage, batch: Batch, page_size: int) -> Page:
    """A text file of object URLs, one a line; the cursor counts the lines consumed."""
    done_lines = int(batch.cursor or "0")
    keys: list[str] = []
    with storage.open(batch.bucket_id, text(batch.input, "UrlFile").lstrip("/")) as fh:
        for number, raw in enumerate(fh):
            if number < done_lines:
                continue
            if len(keys) == page_size:
                return Page(keys, str(number), False)
            line = raw.decode("utf-8", "replace").strip()
            if line:
                keys.append(unquote(urlsplit(line).path.lstrip("/")) if "://" in line else line.lstrip("/"))
    return Page(keys, str(done_lines + len(keys)), True)


@dataclass
class BatchWalker:
    store: Store
    storage: ObjectStorage
    batches: BatchService
    page_size: int = PAGE_SIZE
    lease_seconds: float = 120.0
    clock: Callable[[], datetime] = times.now

    def walk_once(self) -> bool:
        """Submit one page of children of one batch; False when no batch had objects left."""
        claim = self.store.batches.claim_walk(self.clock(), self.lease_seconds)
        if claim is None:
            return False
        batch = claim.batch
        try:
            page = next_page(self.storage, batch, self.page_size)
        except (OSError, KeyError) as exc:
            log.warning("batch %s: cannot read its input (%s); ending it failed", batch.job_id, exc)
            self.store.batches.commit_page(batch.job_id, claim.lease_token, batch.cursor, True, [])
            message = f"The batch input {batch.input} cannot be read: {exc}"
            self.store.batches.settle(batch.job_id, self.clock(), JobState.FAILED, "InputObjectNotExist", message)
            return True
        workflow = None
        if batch.type == BatchType.WORKFLOW:
            workflow = self.store.workflows.get(batch.bucket_id, batch.workflow_id)
            if workflow is None:  # deleted meanwhile: its runs cannot start
                page = Page([], page.cursor, True)
        children = [self.batches.child_for(batch, key, workflow) for key in page.keys]
        stored = self.store.batches.commit_page(batch.job_id, claim.lease_token, page.cursor, page.done, children)
        if stored < 0:
            log.info("batch %s: lease lost or canceled; page not committed", batch.job_id)
        elif stored > 0:
            self.store.jobs.wake()
        return True

    def settle_once(self) -> bool:
        """Settle walked batches whose children all finished."""
        settled = False
        for batch in self.store.batches.settle_candidates(self.clock()):
            outcome = settled_state(self.store.batches.child_counts(batch))
            if outcome is not None:
                state, code, message = outcome
                settled = self.store.batches.settle(batch.job_id, self.clock(), state, code, message) or settled
        return settled


__all__ = ["BatchWalker", "Page", "next_page"]
