"""Many clients submitting at once: every acknowledged job is stored (on SQLite they are committed
together by one writer), and a submit that cannot be stored fails alone, storing nothing of its own."""

from __future__ import annotations

import asyncio
import dataclasses
import threading

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.builders import BUCKET, REGION, T0, pic_job
from wanxiang.model.job import Job
from wanxiang.store.db import open_engine
from wanxiang.store.jobs import COLUMNS, JobFilter, QueueFull, job_row
from wanxiang.store.store import Store


def another_store(store: Store) -> Store:
    """The same database through an engine of its own (its own connections)."""
    schema = None
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            schema = str(conn.exec_driver_sql("SELECT current_schema()").scalar())
    return Store(open_engine(store.engine.url.render_as_string(hide_password=False), schema=schema))


def test_every_acknowledged_job_of_many_concurrent_submits_is_stored(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(10):
            job = pic_job(key=f"in/{n}-{i}.png")
            store.jobs.insert([job])
            with lock:
                acknowledged.append(job.job_id)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()

    assert len(acknowledged) == 160
    assert len(store.jobs.get_many(BUCKET, acknowledged)) == 160


def test_a_submit_that_cannot_be_stored_fails_alone(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    taken = pic_job()
    store.jobs.insert([taken])
    results: dict[str, BaseException | None] = {}
    start = threading.Barrier(9)

    def submit(name: str, jobs: list[Job]) -> None:
        start.wait()
        try:
            store.jobs.insert(jobs)
            results[name] = None
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            results[name] = error

    fresh_alongside = pic_job(key="in/fresh.png")
    duplicate = [fresh_alongside, dataclasses.replace(pic_job(), job_id=taken.job_id)]
    good = {f"good-{n}": [pic_job(key=f"in/{n}.png")] for n in range(8)}
    threads = [threading.Thread(target=submit, args=("duplicate", duplicate))]
    threads += [threading.Thread(target=submit, args=item) for item in good.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert isinstance(results["duplicate"], IntegrityError)
    assert store.jobs.get(fresh_alongside.job_id) is None  # a request is stored whole or not at all
    assert all(results[name] is None for name in good)
    stored = store.jobs.get_many(BUCKET, [jobs[0].job_id for jobs in good.values()])
    assert len(stored) == 8




def test_concurrent_submits_to_a_capped_queue_fill_it_exactly(store: Store) -> None:
    # On SQLite these land in one or a few group commits: each is counted against MaxSize after
    # the ones before it in the same transaction.
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    queue_id = pic_job().queue_id
    store.queues.update(queue_id, T0, name=None, state=None, notify_config=None, max_concurrent=None, max_size=5)
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def submit(n: int) -> None:
        start.wait()
        try:
            store.jobs.insert([pic_job(key=f"in/{n}.png")], bounded=True)
            outcomes.append("stored")
        except QueueFull:
            outcomes.append("full")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["full"] * 7 + ["stored"] * 5
    assert len(store.jobs.list(BUCKET, JobFilter(queue_id=queue_id))[0]) == 5


def test_concurrent_submits_are_each_acknowledged_after_commit(store: Store) -> None:
    # The event loop's path: many submits awaiting one group commit at once, no thread parked.
    # When each await returns, a connection of another engine (another process, as far as the
    # database can tell) already sees the job: it was committed before it was acknowledged.
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    observer = another_store(store)
    unseen: list[str] = []

    async def submit(n: int) -> None:
        job = pic_job(key=f"in/{n}.png")
        await store.jobs.insert_async([job], bounded=True)
        if observer.jobs.get(job.job_id) is None:
            unseen.append(job.job_id)

    async def all_at_once() -> None:
        await asyncio.gather(*(submit(n) for n in range(40)))

    try:
        asyncio.run(all_at_once())
    finally:
        observer.engine.dispose()
    assert unseen == []
    assert len(store.jobs.list(BUCKET, JobFilter())[0]) == 10  # a page: the rest are there too
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 40


def test_an_awaited_submit_past_max_size_is_refused_alone(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    queue_id = pic_job().queue_id
    store.queues.update(queue_id, T0, name=None, state=None, notify_config=None, max_concurrent=None, max_size=3)

    async def submit(n: int) -> str:
        try:
            await store.jobs.insert_async([pic_job(key=f"in/{n}.png")], bounded=True)
        except QueueFull:
            return "full"
        return "stored"

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(submit(n) for n in range(8))))

    assert sorted(asyncio.run(all_at_once())) == ["full"] * 5 + ["stored"] * 3


def test_the_sqlite_insert_writes_every_column_a_job_row_sets() -> None:
    # SQLite's group commit inserts by position (COLUMNS); PostgreSQL's by the row's keys.
    assert tuple(job_row(pic_job())) == COLUMNS
