"""A job whose engine never returns ends Failed with Code JobTimeout at its deadline, stores no
output, and the next job runs (in the worker that replaces the stuck one)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import sdk_client
from tests.support.echo.spec import SPEC as ECHO
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.processes import still_alive
from tests.support.server import REGION as SERVER_REGION
from tests.support.server import start_server
from wanxiang.engines import catalog
from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.model.tree import Tree
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.xml import parse_request
from wanxiang.worker.deadlines import JobDeadlines
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

BUCKET = "deadline-1250000000"
REGION = "ap-guangzhou"
CTX = BucketContext(BUCKET, REGION)
RELEASE = threading.Event()  # lets the stuck engine thread end when the test is over


class StuckEngine:
    """An engine that blocks until the test releases it, then still tries to store its output."""

    tag = "Stuck"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        RELEASE.wait()
        io.write_object("out/late.txt", b"written after the deadline", "text/plain")
        return {}


@pytest.fixture
def tags() -> Iterator[None]:
    catalog.register(ECHO)
    catalog.register(dataclasses.replace(ECHO, tag="Stuck", engine=StuckEngine))
    RELEASE.clear()
    yield
    RELEASE.set()
    catalog.unregister("Stuck")
    catalog.unregister(ECHO.tag)


def submit(jobs: JobService, tag: str, out: str) -> str:
    body = (
        f"<Request><Tag>{tag}</Tag><Input><Object>in/hello.txt</Object></Input>"
        f"<Operation><{tag}><Prefix>&gt;</Prefix></{tag}><Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket>"
        f"<Object>{out}</Object></Output></Operation></Request>"
    ).encode()
    [job] = jobs.submit(CTX, parse_submit_job(parse_request(body)))
    return job.job_id


@pytest.mark.usefixtures("tags")
def test_a_stuck_engine_ends_job_timeout_and_the_next_job_runs(store: Store) -> None:
    storage = MemoryStorage()
    storage.put(BUCKET, "in/hello.txt", b"hello")
    store.queues.ensure_bucket(BUCKET, REGION, times.now())
    jobs = JobService(store)
    stuck_id = submit(jobs, "Stuck", "out/late.txt")
    next_id = submit(jobs, "Echo", "out/next.txt")

    deadlines = JobDeadlines.parse("Stuck=1")
    first = Worker(store, storage, PollWaiter(), lease_seconds=0.6, deadlines=deadlines)
    stop = threading.Event()
    runner = threading.Thread(target=first.run, args=(stop,))
    started = time.monotonic()
    runner.start()
    runner.join(30)
    stop.set()
    assert not runner.is_alive()  # the stuck worker stopped taking jobs on its own
    assert first.stuck
    assert time.monotonic() - started < 20

    [timed_out] = store.jobs.get_many(BUCKET, [stuck_id])
    assert (timed_out.state, timed_out.code) == (JobState.FAILED, "JobTimeout")
    assert "1 s deadline" in timed_out.message

    replacement = Worker(store, storage, PollWaiter(), lease_seconds=0.6, deadlines=deadlines)
    assert replacement.run_once()
    [ran] = store.jobs.get_many(BUCKET, [next_id])
    assert ran.state == JobState.SUCCESS, ran.message

    RELEASE.set()  # the stuck engine wakes and tries to store: refused, nothing appears
    time.sleep(0.2)
    assert storage.head(BUCKET, "out/late.txt") is None
    # Its lease was not renewed past the deadline, and the job is not handed out again.
    assert replacement.run_once() is False
    [still] = store.jobs.get_many(BUCKET, [stuck_id])
    assert still.code == "JobTimeout"


@pytest.fixture
def silent_service() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung translation service)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    closing = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not closing.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    closing.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_a_live_worker_stuck_on_a_hung_service_times_out_and_is_replaced(
    tmp_path: Path, silent_service: int
) -> None:
    server = start_server(
        tmp_path / "srv", "--workers", "1", "--job-timeout", "Translation=2",
        env={"WANXIANG_TRANSLATION_ENGINES": f"en-es=libretranslate:http://127.0.0.1:{silent_service}"},
    )
    try:
        cos = sdk_client(server)
        bucket = "stuck-1250000000"
        cos.put_object(Bucket=bucket, Body=b"the house", Key="en.txt")
        cos.put_object(Bucket=bucket, Body=marker_png(), Key="in.png")
        media = lambda job_id: cos.ci_get_media_jobs(Bucket=bucket, JobIDs=job_id)  # noqa: E731
        pic = lambda job_id: cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)  # noqa: E731
        workers_before = set(process_children(server.process.pid))
        translation = cos.ci_create_media_jobs(Bucket=bucket, Lst={}, Jobs={
            "Tag": "Translation", "Input": {"Object": "en.txt", "Lang": "en", "Type": "txt"},
            "Operation": {"Translation": {"Lang": "es", "Type": "txt"},
                          "Output": {"Region": SERVER_REGION, "Bucket": bucket, "Object": "es.txt"}}})
        detail = wait_for_state(media, translation["JobsDetail"][0]["JobId"], timeout=60)
        assert (detail["State"], detail["Code"]) == ("Failed", "JobTimeout"), detail
        # The next job runs, in the worker that replaced the stuck one.
        rotate = cos.ci_create_media_pic_jobs(Bucket=bucket, Lst={}, Jobs={
            "Tag": "PicProcess", "Input": {"Object": "in.png"},
            "Operation": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
                          "Output": {"Region": SERVER_REGION, "Bucket": bucket, "Object": "out.png"}}})
        done = wait_for_state(pic, rotate["JobsDetail"][0]["JobId"], timeout=60)
        assert done["State"] == "Success", done
        assert set(process_children(server.process.pid)) != workers_before
        assert "exits to be replaced" in server.log()
        assert cos.object_exists(Bucket=bucket, Key="es.txt") is False
    finally:
        children = process_children(server.process.pid)
        server.stop()
    # the multiprocessing resource tracker exits once it sees EOF
    assert still_alive(children, timeout=15) == []


def process_children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found
