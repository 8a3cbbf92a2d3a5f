"""Adding a job Tag takes its package and one catalog line: a toy Tag, Echo, registered here
(tests/support/echo), is submitted as CI XML, runs in a worker and ends Success with its result."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.echo.spec import SPEC as ECHO
from wanxiang.engines import catalog
from wanxiang.model import times
from wanxiang.model.errors import CIError
from wanxiang.model.job import JobState, QueueFamily
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.services.templates import TemplateService
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.wire.jobs import jobs_detail
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.xml import parse_request, render
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

BUCKET = "echo-1250000000"
REGION = "ap-guangzhou"
CTX = BucketContext(BUCKET, REGION)


@pytest.fixture
def echo_tag() -> Iterator[None]:
    catalog.register(ECHO)  # the one line a new Tag adds to the catalog
    yield
    catalog.unregister(ECHO.tag)


def submit_body(prefix: str, template_id: str = "") -> bytes:
    params = f"<TemplateId>{template_id}</TemplateId>" if template_id else f"<Echo><Prefix>{prefix}</Prefix></Echo>"
    return (
        "<Request><Tag>Echo</Tag><Input><Object>in/hello.txt</Object></Input>"
        f"<Operation>{params}<Output><Region>{REGION}</Region><Bucket>{BUCKET}</Bucket>"
        "<Object>out/hello.txt</Object></Output><UserData>toy</UserData></Operation></Request>"
    ).encode()


def ready(store: Store) -> tuple[MemoryStorage, JobService, Worker]:
    storage = MemoryStorage()
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "in/hello.txt", b"hello, world", content_type="text/plain")
    store.queues.ensure_bucket(BUCKET, REGION, times.now())
    return storage, JobService(store), Worker(store, storage, PollWaiter(), lease_seconds=30)


@pytest.mark.usefixtures("echo_tag")
def test_a_registered_echo_job_runs_to_success_with_its_output_and_result(store: Store) -> None:
    storage, jobs, worker = ready(store)

    [job] = jobs.submit(CTX, parse_submit_job(parse_request(submit_body(">>"))))
    assert job.queue_id == default_queue_id(BUCKET, QueueFamily.AI)
    assert worker.run_once()

    [done] = store.jobs.get_many(BUCKET, [job.job_id])
    assert done.state == JobState.SUCCESS, done.message
    with storage.open(BUCKET, "out/hello.txt") as output:
        assert output.read() == b">>hello, world"
    answer = parse_request(render("Response", {"JobsDetail": jobs_detail(done)}), root="Response")
    detail = answer["JobsDetail"]
    assert detail["Tag"] == "Echo" and detail["State"] == "Success"
    assert detail["Operation"]["EchoResult"] == {"Object": "out/hello.txt", "Size": str(len(b">>hello, world"))}
    assert detail["Operation"]["UserData"] == "toy"


@pytest.mark.usefixtures("echo_tag")
def test_an_echo_template_holds_the_params_a_job_then_uses(store: Store) -> None:
    storage, jobs, worker = ready(store)
    template = TemplateService(store).create(CTX, {"Tag": "Echo", "Name": "shout", "Echo": {"Prefix": "!!"}})

    [job] = jobs.submit(CTX, parse_submit_job(parse_request(submit_body("", template.template_id))))
    assert worker.run_once()

    [done] = store.jobs.get_many(BUCKET, [job.job_id])
    assert done.state == JobState.SUCCESS, done.message
    with storage.open(BUCKET, "out/hello.txt") as output:
        assert output.read() == b"!!hello, world"


@pytest.mark.usefixtures("echo_tag")
def test_echo_params_are_checked_at_submit_by_the_tags_own_validator(store: Store) -> None:
    _, jobs, _ = ready(store)
    with pytest.raises(CIError) as refused:
        jobs.submit(CTX, parse_submit_job(parse_request(submit_body("x" * 65))))
    assert refused.value.code == "InvalidArgument"
    assert "Echo.Prefix" in refused.value.message
    assert jobs.list(CTX, {}).items == []


def test_without_its_catalog_line_echo_is_refused_as_an_unknown_tag(store: Store) -> None:
    _, jobs, _ = ready(store)
    with pytest.raises(CIError, match="Tag 'Echo' is not supported"):
        jobs.submit(CTX, parse_submit_job(parse_request(submit_body(">>"))))
