"""Gate: a toy Tag whose jobs can be held half way, so that a test can catch a worker holding one
job while it runs another.

A Gate job stores its output (where a worker claims its next job ahead), notes its id in the
folder named by ``$WANXIANG_TEST_GATE``, and, if its Output/Object starts with ``held/``, then
waits until a file ``open`` appears in that folder. A folder, not an in-process event: the worker
may be a process of its own (:func:`worker_process`), which a test kills.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

from tests.support.echo.spec import SPEC as ECHO
from wanxiang.engines.base import Engine, EngineJob, JobIO
from wanxiang.model.tree import Tree, text

GATE_ENV = "WANXIANG_TEST_GATE"


def gate_folder() -> Path:
    return Path(os.environ[GATE_ENV])


def open_gate() -> None:
    (gate_folder() / "open").touch()


def ran() -> list[str]:
    """The ids of the Gate jobs whose engine ran, in order (a job run twice is there twice)."""
    record = gate_folder() / "ran"
    return record.read_text().split() if record.exists() else []


class GateEngine:
    tag = "Gate"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        key = text(job.operation, "Output", "Object")
        with (gate_folder() / "ran").open("a") as record:
            record.write(job.job_id + "\n")
        io.write_object(key, job.job_id.encode(), "text/plain")
        if key.startswith("held/"):
            while not (gate_folder() / "open").exists():
                threading.Event().wait(0.01)
        io.progress(100)
        return {}


def _engine() -> Engine:
    return GateEngine()


SPEC = dataclasses.replace(ECHO, tag="Gate", engine=_engine, params_optional=True)


def worker_process(url: str, schema: str | None, objects: str, gate: str, lease_seconds: float) -> None:
    """A worker process of its own (started with the spawn method): runs until it is killed."""
    from wanxiang.engines import catalog
    from wanxiang.storage.local import LocalStorage
    from wanxiang.store.store import Store
    from wanxiang.worker.loop import Worker
    from wanxiang.worker.wake import PollWaiter

    os.environ[GATE_ENV] = gate
    catalog.register(SPEC)
    store = Store.open(url, schema=schema, run_migrations=False, synchronous="NORMAL")
    Worker(store, LocalStorage(objects), PollWaiter(), lease_seconds=lease_seconds).run(threading.Event())
