"""A batch whose walker dies mid-way resumes from its cursor and submits no object twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.integration.flows_support import REGION, make_flows
from tests.support.images import marker_png
from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.storage.local import LocalStorage
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.schema import jobs as jobs_table
from wanxiang.store.store import Store

BUCKET = "restart-1250000000"

# A worker process that only walks batches, slowly, so it can be killed between pages.
WALKER = """
import sys, time
from wanxiang.app import App
from wanxiang.config import Settings
from wanxiang.storage.local import LocalStorage
from wanxiang.store.store import Store
store = Store.open(sys.argv[1], run_migrations=False)
app = App.build(Settings(), store, LocalStorage(sys.argv[2]), side="worker")
walker = app.batch_walker(page_size=10, lease_seconds=1)
while True:
    if not walker.walk_once():
        time.sleep(0.05)
    time.sleep(0.05)
"""


def batch_request(prefix: str) -> dict[str, object]:
    return {
        "Name": "restartable",
        "Type": "Job",
        "Input": {"Prefix": prefix},
        "Operation": {
            "Tag": "PicProcess",
            "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/4x"}},
            "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "out/${InputNameAndExt}"},
        },
    }


def children_per_object(store: Store, batch_id: str) -> Counter[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            jobs_table.select().with_only_columns(jobs_table.c.input_object).where(
                jobs_table.c.inventory_trigger_job_id == batch_id
            )
        ).all()
    return Counter(r.input_object for r in rows)


def test_batch_walker_killed_mid_way_resumes_and_processes_each_object_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wanxiang.db'}"
    store = Store.open(url)
    storage = LocalStorage(tmp_path / "data")
    flows = make_flows(store, storage, BUCKET, page_size=7)
    image = marker_png(16, 8)
    keys = [f"in/{i:03}.png" for i in range(120)]
    for key in keys:
        storage.put(BUCKET, key, image)
    batch = flows.batches.create(flows.ctx, batch_request("in/"))

    walker = subprocess.Popen([sys.executable, "-c", WALKER, url, str(tmp_path / "data")], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while store.batches.get(BUCKET, batch.job_id).submitted < 40:  # type: ignore[union-attr]
            assert time.monotonic() < deadline and walker.poll() is None
            time.sleep(0.02)
    finally:
        os.kill(walker.pid, signal.SIGKILL)
        walker.wait()
    part = store.batches.get(BUCKET, batch.job_id)
    assert part is not None and 40 <= part.submitted < len(keys) and not part.walk_done

    time.sleep(1.1)  # the dead walker's lease lapses; a new worker takes the batch over
    flows.run_until(lambda: store.batches.get(BUCKET, batch.job_id).state.finished)  # type: ignore[union-attr]

    done = store.batches.get(BUCKET, batch.job_id)
    assert done is not None and done.state == JobState.SUCCESS
    assert done.submitted == len(keys)
    assert children_per_object(store, batch.job_id) == Counter({key: 1 for key in keys})
    outputs = storage.list(BUCKET, prefix="out/").objects
    assert [o.key for o in outputs] == [key.replace("in/", "out/") for key in keys]
    store.close()


def test_a_walker_whose_lease_lapsed_cannot_commit_its_page(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=5)
    for i in range(12):
        flows.storage.put(BUCKET, f"in/{i:02}.png", b"x")
    batch = flows.batches.create(flows.ctx, batch_request("in/"))

    stale = store.batches.claim_walk(times.now(), lease_seconds=0.05)
    assert stale is not None
    time.sleep(0.1)
    assert flows.walker.walk_once()  # takes over the lapsed lease and commits the first page
    child = flows.batches.child_for(stale.batch, "in/00.png")
    assert store.batches.commit_page(batch.job_id, stale.lease_token, "in/00.png", False, [child]) == -1

    while flows.walker.walk_once():
        pass
    walked = store.batches.get(BUCKET, batch.job_id)
    assert walked is not None and walked.walk_done and walked.submitted == 12
    assert children_per_object(store, batch.job_id) == Counter({f"in/{i:02}.png": 1 for i in range(12)})


def test_canceling_a_batch_stops_the_walk_and_cancels_waiting_children(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=5)
    for i in range(20):
        flows.storage.put(BUCKET, f"in/{i:02}.png", b"x")
    batch = flows.batches.create(flows.ctx, batch_request("in/"))
    assert flows.walker.walk_once() and flows.walker.walk_once()

    canceled = flows.batches.cancel(flows.ctx, batch.job_id)

    assert canceled.state == JobState.CANCEL
    assert not flows.walker.walk_once()
    assert store.batches.get(BUCKET, batch.job_id).submitted == 10  # type: ignore[union-attr]
    with store.engine.connect() as conn:
        states = {r.state for r in conn.execute(
            jobs_table.select().where(jobs_table.c.inventory_trigger_job_id == batch.job_id)
        )}
    assert states == {"Cancel"}


def test_two_walkers_racing_over_one_batch_submit_each_object_once(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=3)
    keys = [f"in/{i:02}.png" for i in range(40)]
    for key in keys:
        flows.storage.put(BUCKET, key, b"x")
    batch = flows.batches.create(flows.ctx, batch_request("in/"))
    walkers = [App.build(Settings(), store, flows.storage, side="worker").batch_walker(page_size=3) for _ in range(2)]

    def walk(walker: Any) -> None:
        deadline = time.monotonic() + 30
        while not store.batches.get(BUCKET, batch.job_id).walk_done:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            walker.walk_once()

    threads = [threading.Thread(target=walk, args=(w,)) for w in walkers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert children_per_object(store, batch.job_id) == Counter({key: 1 for key in keys})
    assert store.batches.get(BUCKET, batch.job_id).submitted == len(keys)  # type: ignore[union-attr]


def test_a_batch_over_a_url_file_processes_the_listed_objects_and_a_missing_file_fails_it(store: Store) -> None:
    flows = make_flows(store, MemoryStorage(), BUCKET, page_size=2)
    for i in range(5):
        flows.storage.put(BUCKET, f"in/{i}.png", b"x")
    urls = "".join(f"https://{BUCKET}.cos.{REGION}.myqcloud.com/in/{i}.png\n" for i in (0, 2, 4))
    flows.storage.put(BUCKET, "lists/urls.txt", urls.encode())
    listed = batch_request("in/")
    listed["Input"] = {"UrlFile": "lists/urls.txt"}
    missing = batch_request("in/")
    missing["Input"] = {"UrlFile": "lists/nope.txt"}
    batch = flows.batches.create(flows.ctx, listed)
    broken = flows.batches.create(flows.ctx, missing)

    while flows.walker.walk_once():
        pass

    assert children_per_object(store, batch.job_id) == Counter({"in/0.png": 1, "in/2.png": 1, "in/4.png": 1})
    failed = store.batches.get(BUCKET, broken.job_id)
    assert failed is not None and failed.state == JobState.FAILED and "lists/nope.txt" in failed.message
