"""Bench: the claim rate on PostgreSQL with a MaxConcurrent limit set vs without.

The same no-op claim+finish loop as ``pg_claim`` (2 worker processes, ``JobQueue.claim`` +
``JobQueue.finish``, no engine), on one queue of N jobs in a fresh schema per run, in three
variants interleaved over the rounds:

- none: the queue has no limit a user set (the default): the claim never writes the queue row;
- cap 100: MaxConcurrent=100, never reached: every claim takes a slot (the queue row's counter,
  under its lock) and every finish frees it; this is the cost of enforcing a limit;
- cap 2: MaxConcurrent=2 = the number of workers: the limit binds now and then (a claimer that
  loses the race for the last slot gets nothing and claims again).

Prints jobs/s per variant (median of the rounds), the ratios to none (aim >= 0.8), and the load.

Run: .venv/bin/python -m bench.pg_claim_limits [--quick]
"""

from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime

from bench import quick, sized
from bench.pg_claim import (
    BUCKET,
    PG_URL,
    WORKERS,
    fresh_schema,
    ours_count,
    ours_setup,
    ours_worker,
    timed_workers,
)
from wanxiang.model.job import QueueFamily
from wanxiang.store.db import open_engine
from wanxiang.store.queues import QueueStore, default_queue_id

VARIANTS: dict[str, int | None] = {"none": None, "cap 100": 100, f"cap {WORKERS}": WORKERS}


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
        seconds, cpu = timed_workers(ours_worker, schema)
        finished = ours_count(schema)
    if finished != count:
        raise RuntimeError(f"{label}: {finished} of {count} jobs finished")
    rate = count / seconds
    load = os.getloadavg()[0]
    print(f"  round {round_no + 1} {label:<8} {rate:8.0f} jobs/s  ({count} jobs in {seconds:.2f} s; "
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
            order.reverse()  # neither variant always runs first
        for label, cap in order:
            rates[label].append(measure(label, cap, count, round_no))
    medians = {label: statistics.median(values) for label, values in rates.items()}
    base = medians["none"]
    for label, rate in medians.items():
        print(f"{label:<8} median {rate:8.0f} jobs/s   / none: {rate / base:.2f}" + ("" if label == "none" else "   (aim >= 0.8)"))
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
