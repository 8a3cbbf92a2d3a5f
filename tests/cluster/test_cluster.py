"""Many machines for real: two API processes and two worker processes, each with its own data dir,
sharing one PostgreSQL schema and one SeaweedFS. One worker and one API are SIGKILLed mid-run and
restarted; nothing acknowledged is lost and nothing runs twice into two results."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosClientError, CosServiceError

from tests.cluster.processes import Worker, gone_or_left, kill_group, restart_api, stop_group
from tests.conftest import sdk_client
from tests.sdk.test_batches import wait_batch
from tests.support.database import PG_URL, new_schema_name, require_postgres
from tests.support.images import marker_png, size
from tests.support.raw import signed
from tests.support.seaweedfs import SeaweedFS
from tests.support.server import REGION, RunningServer, start_server
from wanxiang.store.db import drop_schema, open_engine
from wanxiang.wire.xml import parse_request

BUCKET = "cluster-1250000000"
OBJECTS = 200
JOBS = 500
KILL_AFTER = 150  # submitted jobs before one API and one worker die
ROTATE = "imageMogr2/rotate/90"


def pic_job(key: str, out: str) -> dict[str, Any]:
    return {"Tag": "PicProcess", "Input": {"Object": key}, "Operation": {
        "PicProcess": {"ProcessRule": ROTATE},
        "Output": {"Region": REGION, "Bucket": BUCKET, "Object": out},
    }}


def batch_body() -> dict[str, Any]:
    return {"Name": "rotate-all", "Type": "Job", "Input": {"Prefix": "in/"}, "Operation": {
        "Tag": "PicProcess",
        "JobParam": {"PicProcess": {"ProcessRule": ROTATE}},
        "Output": {"Region": REGION, "Bucket": BUCKET, "Object": "batch-out/${InputName}.${Ext}"},
    }}


class Cluster:
    def __init__(self, root: Path, seaweedfs: SeaweedFS, schema: str) -> None:
        self.common = [
            "--database-url", PG_URL, "--database-schema", schema,
            "--storage-url", seaweedfs.storage_url(f"cluster-{uuid.uuid4().hex[:8]}"),
            "--lease-seconds", "3",
        ]
        # One at a time: the first one creates the schema and runs the migrations.
        self.apis = [start_server(root / f"api{n}", "--workers", "0", *self.common) for n in (1, 2)]
        self.workers = [Worker(root / f"worker{n}", ["--workers", "1", *self.common]) for n in (1, 2)]

    def cos(self, n: int) -> Any:
        return sdk_client(self.apis[n])

    def processes(self) -> list[Any]:
        return [api.process for api in self.apis] + [worker.process for worker in self.workers]

    def stop(self) -> None:
        for api in self.apis:
            stop_group(api.process, 2)  # SIGINT, as Ctrl-C
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def cluster(tmp_path: Path, seaweedfs: SeaweedFS) -> Iterator[Cluster]:
    require_postgres()
    schema = new_schema_name("cluster")
    built = Cluster(tmp_path, seaweedfs, schema)
    try:
        yield built
    finally:
        built.stop()
        left = gone_or_left([process.pid for process in built.processes()])
        admin = open_engine(PG_URL)
        drop_schema(admin, schema)
        admin.dispose()
        assert left == [], f"processes left running: {left}"


def acknowledged(submit: Callable[[], str], fallback: Callable[[], str]) -> str:
    """A job id the cluster answered with; when the API dies under the request, the other one takes it."""
    try:
        return submit()
    except (CosClientError, CosServiceError, OSError):
        return fallback()


def states_of(cos: Any, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 50):
        for detail in cos.ci_get_media_pic_jobs(Bucket=BUCKET, JobIDs=",".join(ids[start : start + 50]))["JobsDetail"]:
            found[detail["JobId"]] = detail["State"]
    return found


def wait_for_some_success(cos: Any, ids: list[str], timeout: float = 60) -> int:
    """How many jobs are done once the workers have finished some (so a kill lands mid-run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = sum(state == "Success" for state in states_of(cos, ids).values())
        if done:
            return done
        time.sleep(0.2)
    return 0


def batch_children(api: RunningServer, batch_id: str) -> list[dict[str, Any]]:
    children: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"tag": "PicProcess", "inventoryTriggerJobId": batch_id, "size": "100"}
        if token:
            params["nextToken"] = token
        page = parse_request(signed(api, "GET", "/pic_jobs", BUCKET, params=params).content, root="Response")
        details = page.get("JobsDetail") or []
        children += details if isinstance(details, list) else [details]
        token = page.get("NextToken") or ""
        if not token or not details:
            return children


def rotated_size(cos: Any, key: str) -> tuple[int, int]:
    body = bytes(cos.get_object(Bucket=BUCKET, Key=key)["Body"].get_raw_stream().read())
    try:
        return size(body)
    except Exception as error:
        raise AssertionError(f"{key} is not an image ({len(body)} bytes: {body[:200]!r})") from error


def test_two_apis_and_two_workers_lose_nothing_when_one_of_each_is_killed(cluster: Cluster) -> None:
    started = time.monotonic()
    upload, reader = cluster.cos(0), cluster.cos(1)
    image = marker_png(24, 12)
    for i in range(OBJECTS):
        upload.put_object(Bucket=BUCKET, Body=image, Key=f"in/{i:03d}.png")
    listed = reader.list_objects(Bucket=BUCKET, Prefix="in/", MaxKeys=1000)["Contents"]
    assert len(listed) == OBJECTS  # written through API 1, listed through API 2

    batch_id = reader.ci_create_inventory_trigger_jobs(Bucket=BUCKET, JobBody=batch_body())["JobsDetail"][0]["JobId"]
    ids: list[str] = []
    for n in range(JOBS):
        job = pic_job(f"in/{n % OBJECTS:03d}.png", f"out/{n}.png")
        via = cluster.cos(n % 2)
        other = cluster.cos((n + 1) % 2)
        ids.append(acknowledged(
            lambda via=via, job=job: via.ci_create_media_pic_jobs(Bucket=BUCKET, Jobs=job, Lst={})["JobsDetail"][0]["JobId"],
            lambda other=other, job=job: other.ci_create_media_pic_jobs(Bucket=BUCKET, Jobs=job, Lst={})["JobsDetail"][0]["JobId"],
        ))
        if n == KILL_AFTER:
            done_before = wait_for_some_success(reader, ids)
            kill_group(cluster.workers[0].process)
            kill_group(cluster.apis[0].process)
            cluster.workers[0].start()
            cluster.apis[0] = restart_api(cluster.apis[0])
    assert 0 < done_before < KILL_AFTER + 1  # the kills hit a cluster with work done and work to do
    assert len(set(ids)) == JOBS

    deadline = time.monotonic() + 150
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = states_of(reader, ids)
        if all(state in ("Success", "Failed") for state in states.values()):
            break
        time.sleep(1)
    assert sorted(set(states.values())) == ["Success"], {s: list(states.values()).count(s) for s in set(states.values())}
    batch = wait_batch(reader, BUCKET, batch_id, timeout=60)
    assert batch["State"] == "Success", batch

    children = batch_children(cluster.apis[1], batch_id)
    assert sorted(child["Input"]["Object"] for child in children) == [f"in/{i:03d}.png" for i in range(OBJECTS)]
    assert {child["State"] for child in children} == {"Success"}

    apis = [cluster.cos(0), cluster.cos(1)]  # API 1 is the restarted process
    for n in range(JOBS):
        assert rotated_size(apis[n % 2], f"out/{n}.png") == (12, 24)
    for i in range(OBJECTS):
        assert rotated_size(apis[i % 2], f"batch-out/{i:03d}.png") == (12, 24)
        assert apis[(i + 1) % 2].head_object(Bucket=BUCKET, Key=f"in/{i:03d}.png")["Content-Length"] == str(len(image))
    print(f"cluster test took {time.monotonic() - started:.0f} s")
