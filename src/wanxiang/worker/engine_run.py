"""Running one job's engine: the thread engines run in, and an engine's run turned into the job's
outcome (State, Code, Message, result), whatever the engine raised."""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from wanxiang.engines import catalog
from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model.errors import JobCancelled, JobFailure
from wanxiang.model.job import Job, JobState
from wanxiang.model.tree import Tree

log = logging.getLogger("wanxiang.worker")
T = TypeVar("T")
Outcome = tuple[JobState, str, str, Tree]
CANCELED_WHILE_RUNNING = "The job was canceled while running; it stored no output."


class EngineThread:
    """The thread engines run in, kept for the worker's life. A daemon, unlike an executor's: an
    engine stuck past its deadline must not keep the process from exiting."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._tasks.put((fn, future))
        return future

    def close(self) -> None:
        self._tasks.put(None)

    def _loop(self) -> None:
        while (task := self._tasks.get()) is not None:
            fn, future = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as error:  # noqa: BLE001 - handed to the waiting worker
                    future.set_exception(error)


def run_engine(job: Job, io: JobIO) -> Outcome:
    """Run ``job``'s engine: an engine's failure, cancel or bug ends the job, never the worker."""
    engine = catalog.engine(job.tag)
    if engine is None:
        return JobState.FAILED, "UnsupportedTag", f"No engine is installed for Tag {job.tag}.", {}
    operation = dict(job.operation)
    operation.update(job.params)
    engine_job = EngineJob(job.job_id, job.tag, job.bucket_id, job.region, dict(job.input), operation)
    try:
        result = engine.run(engine_job, io)
    except JobCancelled:
        return JobState.CANCEL, "Cancel", CANCELED_WHILE_RUNNING, {}
    except JobFailure as failure:
        return JobState.FAILED, failure.code, failure.message, {}
    except MemoryError:
        return JobState.FAILED, "ResourceExhausted", "The job needed more memory than the worker has.", {}
    except Exception as exc:  # an engine bug fails the job, not the worker
        log.exception("job %s: engine %s raised", job.job_id, job.tag)
        return JobState.FAILED, "InternalError", f"The {job.tag} engine failed: {type(exc).__name__}: {exc}", {}
    return JobState.SUCCESS, "Success", "", result
