"""Bench: how many objects per second a batch job walks and submits (children are not run), on
SQLite with 100k objects in a local-storage bucket; beside it, the bare listing of the same bucket.

Run: .venv/bin/python -m bench.batch_walk   (``--quick`` / WANXIANG_BENCH_QUICK=1: 5k objects)
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from tests.support.images import marker_png

from bench import REGION, sized
from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.model import times
from wanxiang.services.context import BucketContext
from wanxiang.storage.local import LocalStorage
from wanxiang.store.store import Store

BUCKET = "walk-1250000000"
PER_FOLDER = 1000
PAGE = 1000


@contextmanager
def no_fsync() -> Iterator[None]:
    # Filling the bucket is setup, not the measured walk: 100k durable writes would take minutes.
    with mock.patch.object(os, "fsync", lambda _fd: None):
        yield


def fill(storage: LocalStorage, count: int) -> None:
    image = marker_png(16, 8)
    with no_fsync():
        for i in range(count):
            storage.put(BUCKET, f"in/d{i // PER_FOLDER:03}/k{i % PER_FOLDER:04}.png", image, content_type="image/png")


def bare_listing(storage: LocalStorage) -> tuple[int, float]:
    started, marker, seen = time.perf_counter(), "", 0
    while True:
        page = storage.list(BUCKET, prefix="in/", marker=marker, max_keys=PAGE)
        seen += len(page.objects)
        if not page.is_truncated:
            return seen, time.perf_counter() - started
        marker = page.objects[-1].key


def walk(store: Store, storage: LocalStorage) -> tuple[int, float, int]:
    walker = App.build(Settings(), store, storage, side="worker").batch_walker(page_size=PAGE)
    request = {
        "Name": "bench",
        "Type": "Job",
        "Input": {"Prefix": "in/"},
        "Operation": {
            "Tag": "PicProcess",
            "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/50x"}},
            "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "out/${InputPath}/${InputName}_${InventoryTriggerJobId}.${Ext}"},
        },
    }
    batch = walker.batches.create(BucketContext(BUCKET, REGION), request)
    started, pages = time.perf_counter(), 0
    while walker.walk_once():
        pages += 1
    took = time.perf_counter() - started
    done = store.batches.get(BUCKET, batch.job_id)
    assert done is not None and done.walk_done
    return done.submitted, took, pages


def main() -> None:
    count = sized(100_000, 5_000)
    with tempfile.TemporaryDirectory(prefix="wanxiang-bench-walk-") as tmp:
        root = Path(tmp)
        storage = LocalStorage(root / "data")
        started = time.perf_counter()
        fill(storage, count)
        print(f"filled {count} objects in {time.perf_counter() - started:.0f} s (setup, fsync off)")
        store = Store.open(f"sqlite:///{root / 'wanxiang.db'}")
        store.queues.ensure_bucket(BUCKET, REGION, times.now())

        listed, list_took = bare_listing(storage)
        submitted, walk_took, pages = walk(store, storage)
        assert listed == submitted == count, (listed, submitted, count)
        list_rate, walk_rate = listed / list_took, submitted / walk_took
        print(f"bare listing (baseline):  {list_rate:8.0f} objects/s  ({listed} in {list_took:.1f} s)")
        print(f"batch walk + submit:      {walk_rate:8.0f} objects/s  ({submitted} children, {pages} pages, {walk_took:.1f} s)")
        print(f"ratio walk/listing:       {walk_rate / list_rate:8.2f}")
        store.close()


if __name__ == "__main__":
    main()
