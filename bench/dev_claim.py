"""Bench: what dev mode's test modes cost the claim, on SQLite, in one process.

Claims and finishes no-op jobs with the production claim (``JobQueue.claim``) and with the dev-mode
claim (``dev=True``: the same statement plus the manual-hold filter, with a manual row set for some
other queue so that the filter is really evaluated). Rounds alternate between the two, each on a
fresh database, so the machine's load falls on both alike. A server without ``--dev`` runs only
the production statement; this prints what ``--dev`` adds.

Run: .venv/bin/python -m bench.dev_claim [--quick]
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench import sized
from wanxiang.model import times
from wanxiang.model.ids import new_id
from wanxiang.model.job import Job, JobState, QueueFamily
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.store.testmodes import ModeSetting

BUCKET = "bench-1250000000"
JOBS = sized(2000, 300)
ROUNDS = sized(4, 2)


def one_round(dev: bool) -> float:
    """Jobs claimed and finished per second."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'bench.db'}", synchronous="NORMAL")
        store.queues.ensure_bucket(BUCKET, "ap-guangzhou", times.now())
        queue = default_queue_id(BUCKET, QueueFamily.PIC)
        store.jobs.insert(
            Job(job_id=new_id("c"), bucket_id=BUCKET, region="ap-guangzhou", tag="PicProcess", queue_id=queue,
                state=JobState.SUBMITTED, job_level=0, input={"Object": "a.png"}, operation={},
                creation_time=times.now())
            for _ in range(JOBS)
        )
        if dev:
            store.test_modes.set(ModeSetting("some-other-queue", "manual"), times.now())
        started = time.perf_counter()
        done = 0
        while (claim := store.job_queue.claim(times.now(), 30, dev=dev)) is not None:
            store.job_queue.finish(claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {})
            done += 1
        took = time.perf_counter() - started
        store.close()
    assert done == JOBS
    return done / took


def main() -> None:
    production: list[float] = []
    dev: list[float] = []
    for _ in range(ROUNDS):
        production.append(one_round(False))
        dev.append(one_round(True))
    ours, base = statistics.median(dev), statistics.median(production)
    print(f"{JOBS} no-op jobs claimed+finished on SQLite, {ROUNDS} interleaved rounds each "
          f"(load {os.getloadavg()[0]:.2f})")
    print(f"  production claim: {base:8.0f} jobs/s")
    print(f"  dev-mode claim:   {ours:8.0f} jobs/s   ratio dev/production {ours / base:.2f}")


if __name__ == "__main__":
    main()
