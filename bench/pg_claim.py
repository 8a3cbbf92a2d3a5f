"""Bench: no-op jobs claimed and finished per second on PostgreSQL by 2 worker processes.

Ours (``JobQueue.claim`` + ``JobQueue.finish`` in a loop, no engine) beside procrastinate (its own
schema, an async no-op task, ``run_worker(wait=False)``) and a bare ``SELECT ... FOR UPDATE SKIP
LOCKED`` + ``UPDATE`` loop with psycopg on a minimal table. Each system works in its own fresh
PostgreSQL schema, dropped afterwards; all at the server's default commit settings.

Run: .venv/bin/python -m bench.pg_claim [--quick] [--profile]
     (needs postgresql://postgres@127.0.0.1:5432/test; --profile prints where our loop spends time)
"""

from __future__ import annotations

import cProfile
import logging
import multiprocessing as mp
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.synchronize import Event

import procrastinate
import psycopg

from bench import quick, sized
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.store.db import create_schema, drop_schema, migrate, open_engine
from wanxiang.store.jobs import JobStore
from wanxiang.store.queue import JobQueue
from wanxiang.store.queues import QueueStore, default_queue_id

PG_URL = os.environ.get("WANXIANG_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORKERS = 2
BUCKET = "bench-1250000000"
REGION = "ap-guangzhou"
# One id per run, so that two runs at once (or a crashed one) never share a schema.
RUN = uuid.uuid4().hex[:8]


@contextmanager
def fresh_schema(label: str) -> Iterator[str]:
    name = f"wx_bench_{RUN}_{label}"
    admin = open_engine(PG_URL)
    create_schema(admin, name)
    try:
        yield name
    finally:
        drop_schema(admin, name)
        admin.dispose()


def timed_workers(target: Callable[[str, Event, mp.Queue], None], schema: str) -> tuple[float, float]:
    """Seconds from 'go' until the last of WORKERS processes has drained the queue, and the CPU
    seconds the workers spent meanwhile (on 2 cores the client's CPU is taken from PostgreSQL's).

    Each worker connects and warms up before 'go', so process start and imports are not timed.
    """
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()
    go = ctx.Event()
    procs = [ctx.Process(target=target, args=(schema, go, ready)) for _ in range(WORKERS)]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert ready.get(timeout=120) == "ready"
    started = time.monotonic()  # CLOCK_MONOTONIC is one clock for every process on Linux
    go.set()
    reports = [ready.get(timeout=600).split() for _ in procs]
    ended = max(float(end) for end, _ in reports)
    cpu = sum(float(spent) for _, spent in reports)
    for proc in procs:
        proc.join(60)
        if proc.exitcode != 0:
            raise RuntimeError(f"a worker exited with {proc.exitcode}")
    return ended - started, cpu


def done_report(cpu_before: float) -> str:
    return f"{time.monotonic()} {time.process_time() - cpu_before}"


# -- ours -----------------------------------------------------------------------------------------


def ours_setup(schema: str, count: int) -> None:
    engine = open_engine(PG_URL, schema=schema)
    migrate(engine)
    now = datetime.now(UTC)
    QueueStore(engine).ensure_bucket(BUCKET, REGION, now)
    queue_id = default_queue_id(BUCKET, QueueFamily.PIC)
    store = JobStore(engine)
    for first in range(0, count, 1000):
        store.insert(
            Job(
                job_id=f"c{RUN}{index:023x}",
                bucket_id=BUCKET,
                region=REGION,
                tag="PicProcess",
                queue_id=queue_id,
                state=JobState.SUBMITTED,
                job_level=0,
                input={"Object": f"in/{index}.jpg"},
                operation={"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/400x"}},
                creation_time=now,
            )
            for index in range(first, min(count, first + 1000))
        )
    engine.dispose()


def ours_drain(store: JobQueue) -> int:
    done = 0
    while True:
        claim = store.claim(datetime.now(UTC), 30)
        if claim is None:
            return done
        finished = store.finish(
            claim.job.job_id, claim.lease_token, datetime.now(UTC), JobState.SUCCESS, "Success", "", {}
        )
        assert finished is not None
        done += 1


def ours_worker(schema: str, go: Event, ready: mp.Queue) -> None:
    store = JobQueue(open_engine(PG_URL, schema=schema))
    with store.engine.connect():
        pass  # open the pooled connection before the clock starts
    ready.put("ready")
    go.wait()
    cpu = time.process_time()
    ours_drain(store)
    ready.put(done_report(cpu))
    store.engine.dispose()


def ours_count(schema: str) -> int:
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        row = conn.execute("SELECT count(*) FROM jobs WHERE state = 'Success'").fetchone()
    assert row is not None
    return int(row[0])


# -- procrastinate --------------------------------------------------------------------------------


def procrastinate_app(schema: str) -> procrastinate.App:
    # It warns that the App lives in a __main__ module; spawned workers rebuild it the same way.
    logging.getLogger("procrastinate").setLevel(logging.ERROR)
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=PG_URL, kwargs={"options": f"-csearch_path={schema}"})
    )

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app


def procrastinate_setup(schema: str, count: int) -> None:
    app = procrastinate_app(schema)
    with app.open():
        app.schema_manager.apply_schema()
        task = app.tasks["noop"]
        for first in range(0, count, 1000):
            task.batch_defer(*({} for _ in range(first, min(count, first + 1000))))


def procrastinate_worker(schema: str, go: Event, ready: mp.Queue) -> None:
    app = procrastinate_app(schema)
    ready.put("ready")
    go.wait()
    cpu = time.process_time()
    # wait=False: stop once caught up with the queue; concurrency 1 like our worker processes.
    app.run_worker(wait=False, concurrency=1, listen_notify=False, delete_jobs="never")
    ready.put(done_report(cpu))


def procrastinate_count(schema: str) -> int:
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()
    assert row is not None
    return int(row[0])


# -- bare SKIP LOCKED -----------------------------------------------------------------------------


def bare_setup(schema: str, count: int) -> None:
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        conn.execute(
            "CREATE TABLE bare_jobs (id bigserial PRIMARY KEY, state text NOT NULL, lease text, result text)"
        )
        conn.execute("CREATE INDEX bare_jobs_claim ON bare_jobs (state, id)")
        conn.execute(
            "INSERT INTO bare_jobs (state) SELECT 'Submitted' FROM generate_series(1, %s)", (count,)
        )


def bare_worker(schema: str, go: Event, ready: mp.Queue) -> None:
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        ready.put("ready")
        go.wait()
        cpu = time.process_time()
        while True:
            token = uuid.uuid4().hex
            with conn.transaction():
                row = conn.execute(
                    "SELECT id FROM bare_jobs WHERE state = 'Submitted' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    break
                conn.execute("UPDATE bare_jobs SET state = 'Running', lease = %s WHERE id = %s", (token, row[0]))
            with conn.transaction():
                conn.execute(
                    "UPDATE bare_jobs SET state = 'Success', lease = NULL, result = '{}' WHERE id = %s AND lease = %s",
                    (row[0], token),
                )
        ready.put(done_report(cpu))


def bare_count(schema: str) -> int:
    with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
        row = conn.execute("SELECT count(*) FROM bare_jobs WHERE state = 'Success'").fetchone()
    assert row is not None
    return int(row[0])


# -- the run --------------------------------------------------------------------------------------

SYSTEMS: dict[str, tuple[Callable[[str, int], None], Callable[[str, Event, mp.Queue], None], Callable[[str], int]]] = {
    "wanxiang JobQueue claim+finish": (ours_setup, ours_worker, ours_count),
    "procrastinate 3 (async no-op)": (procrastinate_setup, procrastinate_worker, procrastinate_count),
    "bare SKIP LOCKED + UPDATE": (bare_setup, bare_worker, bare_count),
}


def measure(label: str, count: int) -> tuple[float, float]:
    """Seconds and worker CPU seconds for ``count`` jobs of ``label`` in a fresh schema."""
    setup, worker, counted = SYSTEMS[label]
    with fresh_schema(label.split()[0].lower()) as schema:
        setup(schema, count)
        seconds, cpu = timed_workers(worker, schema)
        finished = counted(schema)
    if finished != count:
        raise RuntimeError(f"{label}: {finished} of {count} jobs finished")
    return seconds, cpu


def profile_ours(count: int) -> None:
    """Where one process of our claim+finish loop spends its time (cumulative, top 25)."""
    with fresh_schema("profile") as schema:
        ours_setup(schema, count)
        store = JobQueue(open_engine(PG_URL, schema=schema))
        profiler = cProfile.Profile()
        profiler.enable()
        done = ours_drain(store)
        profiler.disable()
        store.engine.dispose()
    print(f"\nprofile of one process draining {done} jobs:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


def main() -> None:
    count, rounds = sized(3000, 600), sized(3, 1)
    print(f"{'(quick sizes) ' if quick() else ''}{rounds} interleaved rounds of {count} no-op jobs per system, "
          f"{WORKERS} worker processes, {PG_URL}")
    print("2-core machine: the workers share it with PostgreSQL (and with whatever else runs)")
    totals = {label: [0.0, 0.0] for label in SYSTEMS}
    for round_no in range(1, rounds + 1):
        # The order turns each round, so that no system always runs first or last.
        labels = list(SYSTEMS)[round_no - 1:] + list(SYSTEMS)[:round_no - 1]
        for label in labels:
            seconds, cpu = measure(label, count)
            totals[label][0] += seconds
            totals[label][1] += cpu
            print(f"  round {round_no}: {label:<34} {count / seconds:7.0f} jobs/s  [load {os.getloadavg()[0]:.1f}]",
                  flush=True)
    rates = {}
    for label, (seconds, cpu) in totals.items():
        rates[label] = rounds * count / seconds
        print(f"{label:<34} {rates[label]:8.0f} jobs/s  (worker CPU {cpu * 1000 / (rounds * count):.2f} ms/job)")
    ours, procrastinate, bare = rates.values()
    load = os.getloadavg()[0]
    print(f"ours / procrastinate: {ours / procrastinate:.2f}   (aim >= 3)  [load {load:.1f}]")
    print(f"ours / bare:          {ours / bare:.2f}   (aim >= 0.9)  [load {load:.1f}]")
    if "--profile" in sys.argv:
        profile_ours(min(count, 2000))


if __name__ == "__main__":
    main()
