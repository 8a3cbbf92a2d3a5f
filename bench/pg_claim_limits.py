"""Bench: the claim rate on PostgreSQL with a MaxConcurrent limit set vs without.

The same no-op claim+finish loop as ``pg_claim`` (2 worker processes, ``JobQueue.claim`` +
``JobQueue.finish``, no engine), on one queue of N jobs in a fresh schema per run, in four
variants interleaved over the rounds (the order reversed every other round):

- before limits: the claim and finish statements as they were before queue limits (a plain
  UPDATE … WHERE seq = (SELECT … FOR UPDATE SKIP LOCKED), no queue counter at all): what the
  limits cost a queue that has none;
- none: today's statements, the queue with no limit a user set (the default);
- cap 100: MaxConcurrent=100, never reached: every claim takes a slot row (FOR UPDATE SKIP
  LOCKED) and every finish frees it; this is the cost of enforcing a limit;
- cap 2: MaxConcurrent=2 = the number of workers: the limit binds now and then (a claimer that
  loses the race for the last slot looks again).

Prints each run with the load average, the medians, each capped median / none (aim >= 0.8), and
none / before limits.

Run: .venv/bin/python -m bench.pg_claim_limits [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time
from datetime import UTC, datetime
from multiprocessing.synchronize import Event

from sqlalchemy import text

from bench import quick, sized
from bench.pg_claim import (
    BUCKET,
    PG_URL,
    WORKERS,
    done_report,
    fresh_schema,
    ours_count,
    ours_drain,
    ours_setup,
    ours_worker,
    timed_workers,
)
from wanxiang.model.job import QueueFamily
from wanxiang.store.db import open_engine
from wanxiang.store.queue import JobQueue
from wanxiang.store.queues import QueueStore, default_queue_id

BEFORE = "before limits"
VARIANTS: dict[str, int | None] = {BEFORE: None, "none": None, "cap 100": 100, f"cap {WORKERS}": WORKERS}

# The statements of store/queue.sql before queue limits (PostgreSQL form): the baseline.
BEFORE_CLAIM = """
UPDATE jobs
SET state = 'Running', start_us = :now, lease_owner = :token, lease_expires_us = :expires,
    attempts = jobs.attempts + 1
WHERE jobs.seq = (
        SELECT jobs.seq FROM jobs
        WHERE jobs.state = 'Submitted'
          AND NOT (EXISTS (SELECT queues.queue_id FROM queues
                           WHERE queues.queue_id = jobs.queue_id AND queues.state = 'Paused'))
        ORDER BY jobs.job_level DESC, jobs.seq ASC
        LIMIT 1 FOR UPDATE OF jobs SKIP LOCKED)
  AND jobs.state = 'Submitted'
RETURNING *
"""
BEFORE_FINISH = """
UPDATE jobs
SET state = :state, end_us = :end, code = :code, message = :message, progress = :progress,
    result = :result, lease_owner = NULL, lease_expires_us = NULL
WHERE jobs.job_id = :job_id AND jobs.lease_owner = :token AND jobs.state = 'Running'
RETURNING *
"""


def before_worker(schema: str, go: Event, ready: mp.Queue) -> None:
    store = JobQueue(open_engine(PG_URL, schema=schema))
    store._sql = {**store._sql, "claim": text(BEFORE_CLAIM), "finish": text(BEFORE_FINISH)}
    with store.engine.connect():
        pass  # open the pooled connection before the clock starts
    ready.put("ready")
    go.wait()
    cpu = time.process_time()
    ours_drain(store)
    ready.put(done_report(cpu))
    store.engine.dispose()


def measure(label: str, cap: int | None, count: int, round_no: int) -> float:
    with fresh_schema(f"lim{round_no}_{label.replace(' ', '')}") as schema:
        ours_setup(schema, count)
        if cap is not None:
            engine = open_engine(PG_URL, schema=schema)
            QueueStore(engine).update(
                default_queue_id(BUCKET, QueueFamily.PIC), datetime.now(UTC),
                name=None, state=None, notify_config=None, max_concurrent=cap,
            )
            engine.dispose()
        seconds, cpu = timed_workers(before_worker if label == BEFORE else ours_worker, schema)
        finished = ours_count(schema)
    if finished != count:
        raise RuntimeError(f"{label}: {finished} of {count} jobs finished")
    rate = count / seconds
    load = os.getloadavg()[0]
    print(f"  round {round_no + 1} {label:<13} {rate:8.0f} jobs/s  ({count} jobs in {seconds:.2f} s; "
          f"worker CPU {cpu * 1000 / count:.2f} ms/job; load {load:.2f})", flush=True)
    return rate


def main() -> None:
    count = sized(5000, 1000)
    rounds = sized(3, 1)
    print(f"{'(quick sizes) ' if quick() else ''}{count} no-op jobs, {WORKERS} worker processes, {rounds} rounds, {PG_URL}")
    rates: dict[str, list[float]] = {label: [] for label in VARIANTS}
    for round_no in range(rounds):
        order = list(VARIANTS.items())
        if round_no % 2:
            order.reverse()  # no variant always runs first
        for label, cap in order:
            rates[label].append(measure(label, cap, count, round_no))
    medians = {label: statistics.median(values) for label, values in rates.items()}
    base = medians["none"]
    for label, rate in medians.items():
        aim = "   (aim >= 0.8)" if label.startswith("cap") else ""
        print(f"{label:<13} median {rate:8.0f} jobs/s   / none: {rate / base:.2f}{aim}")
    print(f"none / before limits: {base / medians[BEFORE]:.2f}   (what enforcing limits costs a queue without one)")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
