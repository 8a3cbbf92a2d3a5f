"""A usual submit is built on the event loop, without reading the store; one that must read it
(a bucket not seen yet, a QueueId, a TemplateId, a style) says so, and is built in the pool."""

from __future__ import annotations

import pytest

from tests.support.builders import T0
from wanxiang.model.job import QueueFamily
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService, NeedsStore
from wanxiang.services.templates import TemplateService
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.wire.xml import parse_request

CTX = BucketContext("offline-1250000000", "ap-guangzhou")
OUTPUT = "<Output><Region>ap-guangzhou</Region><Bucket>offline-1250000000</Bucket><Object>o.png</Object></Output>"


def submit(operation: str, *, queue: str = "") -> bytes:
    queue_node = f"<QueueId>{queue}</QueueId>" if queue else ""
    return (f"<Request><Tag>PicProcess</Tag><Input><Object>a.png</Object></Input>{queue_node}"
            f"<Operation>{operation}{OUTPUT}</Operation></Request>").encode()


PLAIN = submit("<PicProcess><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>")


def prepare(jobs: JobService, body: bytes, *, offline: bool) -> list[object]:
    return list(jobs.prepare(CTX, parse_submit_job(parse_request(body)), path_family="pic_jobs", offline=offline))


def test_a_plain_submit_to_a_known_bucket_is_built_without_the_store(store: Store) -> None:
    jobs = JobService(store, clock=lambda: T0)
    with pytest.raises(NeedsStore):  # the first submit of a bucket registers it
        prepare(jobs, PLAIN, offline=True)
    [online] = jobs.prepare(CTX, parse_submit_job(parse_request(PLAIN)), path_family="pic_jobs")
    [offline] = jobs.prepare(CTX, parse_submit_job(parse_request(PLAIN)), path_family="pic_jobs", offline=True)
    assert offline.queue_id == default_queue_id(CTX.bucket_id, QueueFamily.PIC)
    assert (offline.params, offline.operation, offline.input) == (online.params, online.operation, online.input)


def test_a_submit_that_must_read_the_store_is_not_built_offline(store: Store) -> None:
    jobs = JobService(store, clock=lambda: T0)
    jobs.prepare(CTX, parse_submit_job(parse_request(PLAIN)), path_family="pic_jobs")  # the bucket is known now
    template = TemplateService(store).create(
        CTX, {"Tag": "PicProcess", "Name": "turn", "PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}}
    )
    needing = [
        submit("<PicProcess><ProcessRule>imageMogr2/rotate/90</ProcessRule></PicProcess>",
               queue=default_queue_id(CTX.bucket_id, QueueFamily.PIC)),
        submit(f"<TemplateId>{template.template_id}</TemplateId>"),
        submit("<PicProcess><ProcessRule>style/small</ProcessRule></PicProcess>"),
    ]
    for body in needing:
        with pytest.raises(NeedsStore):
            prepare(jobs, body, offline=True)
    assert len(prepare(jobs, needing[0], offline=False)) == 1
    assert len(prepare(jobs, needing[1], offline=False)) == 1
