"""A ProcessRule is parsed once at submit; the worker runs the stored operations, and a job
queued without them (by an older server) still runs from its rule."""

from __future__ import annotations

import dataclasses

import pytest
from tests.support.images import marker_png, size

from wanxiang.engines.pic.plan import PLAN_KEY, decode, encode, plan_params, planned_operations
from wanxiang.engines.pic.rule import parse_rule
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.services.context import BucketContext
from wanxiang.services.jobs import JobService
from wanxiang.storage.memory import MemoryStorage
from wanxiang.store.store import Store
from wanxiang.wire.submit import parse_submit_job
from wanxiang.worker.loop import Worker
from wanxiang.worker.wake import PollWaiter

RICH_RULE = (
    "imageMogr2/thumbnail/!50p/crop/100x50/gravity/center/rotate/90/blur/3x2/quality/80/format/webp"
    "|watermark/2/text/5L2g5aW9/fill/IzAwMDAwMA==/fontsize/30/gravity/north/dx/4"
)
BUCKET = "plan-1250000000"
CTX = BucketContext(BUCKET, "ap-guangzhou")


def test_every_operation_of_a_rule_survives_the_stored_form() -> None:
    parsed = parse_rule(RICH_RULE)
    assert len(parsed) > 5
    assert decode(encode(parsed)) == parsed


def test_a_plan_is_used_only_for_its_own_rule_and_version() -> None:
    params = plan_params({"PicProcess": {"ProcessRule": RICH_RULE}})
    assert planned_operations(params) == parse_rule(RICH_RULE)
    other_rule = {**params, "PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}}
    assert planned_operations(other_rule) is None
    old = {**params, PLAN_KEY: {**params[PLAN_KEY], "Version": "0"}}
    assert planned_operations(old) is None
    assert planned_operations({"PicProcess": {"ProcessRule": RICH_RULE}}) is None


def test_a_rule_that_does_not_parse_gets_no_plan_and_fails_in_the_worker_as_before() -> None:
    params = {"PicProcess": {"ProcessRule": "imageMogr2/twirl/90"}}
    assert plan_params(params) == params


def request(rule: str) -> dict[str, object]:
    return {
        "Tag": "PicProcess",
        "Input": {"Object": "in.png"},
        "Operation": {
            "PicProcess": {"ProcessRule": rule},
            "Output": {"Region": "ap-guangzhou", "Bucket": BUCKET, "Object": "out.png"},
        },
    }


@pytest.mark.parametrize("stored_plan", [True, False], ids=["planned at submit", "queued by an older server"])
def test_a_pic_job_runs_from_its_plan_or_its_rule(store: Store, stored_plan: bool) -> None:
    storage = MemoryStorage()
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "in.png", marker_png(40, 20), content_type="image/png")
    store.queues.ensure_bucket(BUCKET, "ap-guangzhou", times.now())
    jobs = JobService(store)
    [job] = jobs.build(CTX, parse_submit_job(request("imageMogr2/rotate/90")))
    assert PLAN_KEY in job.params
    if not stored_plan:
        job = dataclasses.replace(job, params={k: v for k, v in job.params.items() if k != PLAN_KEY})
    store.jobs.insert([job])

    assert Worker(store, storage, PollWaiter(), lease_seconds=30).run_once()
    [done] = store.jobs.get_many(BUCKET, [job.job_id])
    assert done.state == JobState.SUCCESS, done.message
    with storage.open(BUCKET, "out.png") as output:
        assert size(output.read()) == (20, 40)


def test_the_worker_runs_the_stored_operations_without_parsing_again(store: Store) -> None:
    storage = MemoryStorage()
    storage.create_bucket(BUCKET)
    storage.put(BUCKET, "in.png", marker_png(40, 20), content_type="image/png")
    store.queues.ensure_bucket(BUCKET, "ap-guangzhou", times.now())
    [job] = JobService(store).build(CTX, parse_submit_job(request("imageMogr2/rotate/90")))
    # A plan that says something else than its rule shows which one the worker ran.
    plan = {**job.params[PLAN_KEY], "Operations": encode(parse_rule("imageMogr2/thumbnail/10x"))}
    store.jobs.insert([dataclasses.replace(job, params={**job.params, PLAN_KEY: plan})])

    assert Worker(store, storage, PollWaiter(), lease_seconds=30).run_once()
    [done] = store.jobs.get_many(BUCKET, [job.job_id])
    assert done.state == JobState.SUCCESS, done.message
    with storage.open(BUCKET, "out.png") as output:
        assert size(output.read()) == (10, 5)
