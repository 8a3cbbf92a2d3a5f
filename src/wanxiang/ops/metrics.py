"""Prometheus metrics, shared by the API process and its worker processes (see ``metrics_dir``).

Counters and histograms are kept by the process where things happen. What the
database knows (queue depth, the callback backlog) is read when ``/-/metrics`` is scraped, not kept
in counters, so every API process of a cluster reports the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wanxiang.ops.metrics_dir import MULTIPROC_ENV

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_JOB = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

REQUESTS = Counter("wanxiang_http_requests", "HTTP requests answered, by route family and status", ["family", "status"])
REQUEST_SECONDS = Histogram(
    "wanxiang_http_request_duration_seconds", "Time to answer an HTTP request, by route family", ["family"],
    buckets=_LATENCY,
)
JOBS_SUBMITTED = Counter("wanxiang_jobs_submitted", "Jobs accepted into a queue, by Tag", ["tag"])
JOBS_FINISHED = Counter(
    "wanxiang_jobs_finished", "Jobs run to an end by a worker, by Tag, State and Code", ["tag", "state", "code"]
)
JOB_SECONDS = Histogram("wanxiang_job_duration_seconds", "Time a worker spent on a job, by Tag", ["tag"], buckets=_JOB)
QUEUE_WAIT = Histogram(
    "wanxiang_job_queue_wait_seconds", "Time from submission to a worker's claim, by Tag", ["tag"], buckets=_JOB
)
JOBS_RELEASED = Counter(
    "wanxiang_jobs_released", "Running jobs given back to their queue (handed_back at a stop, lease_lapsed)", ["reason"]
)
WORKERS = Gauge("wanxiang_workers", "Worker processes alive, busy with a job or idle", ["state"], multiprocess_mode="livesum")
PIC_DOWNLOADS = Counter(
    "wanxiang_pic_downloads", "Downloads with a processing rule, by where the result came from (cache, processed)",
    ["result"],
)
CALLBACK_ATTEMPTS = Counter("wanxiang_callback_attempts", "Callback deliveries tried, by event", ["event"])
CALLBACK_FAILURES = Counter(
    "wanxiang_callback_failures", "Callback deliveries that failed (final=true: given up)", ["event", "final"]
)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def process_exited(pid: int) -> None:
    """Drop the live gauges of a worker process that is gone (its counters stay counted)."""
    if is_multiprocess():
        multiprocess.mark_process_dead(pid)


class _StoreCollector(Collector):
    """Queue depth by queue and state, and the callback backlog, counted in the database at scrape."""

    def __init__(self, depth: Any) -> None:
        self.depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues, backlog = self.depth()
        family = GaugeMetricFamily("wanxiang_queue_jobs", "Jobs waiting or running, by queue and state",
                                   labels=["queue", "state"])
        for (queue_id, state), count in sorted(queues.items()):
            family.add_metric([queue_id, state], count)
        yield family
        yield GaugeMetricFamily("wanxiang_outbox_backlog", "Callbacks not yet delivered (Pending)", value=backlog)


class _Local(Collector):
    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def scrape(depth: Any) -> tuple[bytes, str]:
    """The exposition text: every process's metrics, plus what ``depth()`` counts in the database."""
    registry = CollectorRegistry()
    if is_multiprocess():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Local())
    registry.register(_StoreCollector(depth))
    return generate_latest(registry), CONTENT_TYPE_LATEST
