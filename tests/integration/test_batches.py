"""Batch jobs over a real bucket and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.flows_support import REGION, make_flows
from tests.support.images import marker_png, size
from wanxiang.model.job import JobState
from wanxiang.model.times import format_time
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.jobs import JobFilter
from wanxiang.store.paging import PageWindow
from wanxiang.store.store import Store

BUCKET = "batch-1250000000"
MID = 200  # of 1000 objects, those in the prefix and the time interval


def wait_past(moment: datetime) -> None:
    while datetime.now(UTC) <= moment:
        time.sleep(0.02)


def next_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)


def rotate_batch(prefix: str, start: datetime | None = None, end: datetime | None = None) -> dict[str, object]:
    operation: dict[str, object] = {
        "Tag": "PicProcess",
        "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
        "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "out/${InputName}_${InventoryTriggerJobId}.${Ext}"},
        "UserData": "batch",
    }
    if start or end:
        operation["TimeInterval"] = {"Start": format_time(start) if start else "", "End": format_time(end) if end else ""}
    return {"Name": "rotate-all", "Type": "Job", "Input": {"Prefix": prefix}, "Operation": operation}


def test_batch_over_1000_objects_processes_exactly_those_in_prefix_and_time_interval(store: Store, tmp_path: Path) -> None:
    # In memory: a thousand fsync'ed writes would make this test about the disk.
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=128)
    image = marker_png(16, 8)
    for i in range(400):
        flows.storage.put(BUCKET, f"in/early-{i:03}.png", image)
    start = next_second()
    wait_past(start)
    for i in range(MID):
        flows.storage.put(BUCKET, f"in/mid-{i:03}.png", image)
    for i in range(200):
        flows.storage.put(BUCKET, f"other/mid-{i:03}.png", image)
    end = next_second()
    wait_past(end)
    for i in range(1000 - 600 - MID):
        flows.storage.put(BUCKET, f"in/late-{i:03}.png", image)

    batch = flows.batches.create(flows.ctx, rotate_batch("in/", start, end))
    flows.run_until(lambda: flows.batches.get(flows.ctx, batch.job_id).state.finished)  # type: ignore[union-attr]

    done = flows.batches.get(flows.ctx, batch.job_id)
    assert done is not None and done.state == JobState.SUCCESS, done
    assert f"{MID} objects: {MID} succeeded, 0 failed" in done.message
    outputs = flows.storage.list(BUCKET, prefix="out/", max_keys=1000).objects
    assert sorted(o.key for o in outputs) == sorted(f"out/mid-{i:03}_{batch.job_id}.png" for i in range(MID))
    with flows.storage.open(BUCKET, outputs[0].key) as fh:
        assert size(fh.read()) == (8, 16)
    children, _ = store.jobs.list(BUCKET, JobFilter(inventory_trigger_job_id=batch.job_id, window=PageWindow(size=100)))
    assert len(children) == 100 and all(c.operation["UserData"] == "batch" for c in children)
    assert len(store.batches.items(batch.job_id)) == MID
