"""Jobs as the API sees them, on SQLite and PostgreSQL: stored as submitted, read by id, listed by
keyset page and filter, canceled while they wait."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.builders import BUCKET, OTHER_BUCKET, REGION, T0, at, pic_job
from wanxiang.model.job import Job, JobState
from wanxiang.store.jobs import JobFilter
from wanxiang.store.paging import PageWindow
from wanxiang.store.store import Store


@pytest.fixture
def jobs_store(store: Store) -> Store:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    store.queues.ensure_bucket(OTHER_BUCKET, REGION, T0)
    return store


def listed(store: Store, bucket: str = BUCKET, **filters: object) -> list[str]:
    found, _ = store.jobs.list(bucket, JobFilter(**filters))  # type: ignore[arg-type]
    return [job.job_id for job in found]


def test_a_submitted_job_reads_back_exactly_as_it_was_stored(jobs_store: Store) -> None:
    job = dataclasses.replace(
        pic_job(key="相册/2026 01/猫.png", level=2),
        callback={"CallBack": "https://hooks.example.com/猫", "CallBackFormat": "JSON", "CallBackType": "Url"},
        workflow={"RunId": "i1", "Name": "PicProcess_1"},
        result={"PicProcessResult": {"ObjectName": "out/猫.png"}},
    )
    jobs_store.jobs.insert([job])

    assert jobs_store.jobs.get(job.job_id) == job
    assert jobs_store.jobs.get_many(BUCKET, [job.job_id]) == [job]


def test_get_many_answers_in_the_order_asked_and_leaves_out_unknown_and_foreign_ids(jobs_store: Store) -> None:
    a, b, foreign = pic_job(), pic_job(), pic_job(OTHER_BUCKET)
    jobs_store.jobs.insert([a, b, foreign])

    found = jobs_store.jobs.get_many(BUCKET, [b.job_id, "cnosuchjob", foreign.job_id, a.job_id])

    assert [j.job_id for j in found] == [b.job_id, a.job_id]
    assert jobs_store.jobs.get_many(BUCKET, []) == []
    assert jobs_store.jobs.get("cnosuchjob") is None


def test_a_batch_of_jobs_with_a_duplicate_id_stores_none_of_them(jobs_store: Store) -> None:
    first = pic_job()
    jobs_store.jobs.insert([first])
    fresh = pic_job()
    with pytest.raises(IntegrityError):
        jobs_store.jobs.insert([fresh, first])
    assert jobs_store.jobs.get(fresh.job_id) is None
    assert listed(jobs_store) == [first.job_id]


def test_keyset_pages_are_stable_when_jobs_arrive_between_pages(jobs_store: Store) -> None:
    jobs = [pic_job(created=at(i)) for i in range(7)]
    for job in jobs:
        jobs_store.jobs.insert([job])

    def page(token: str | None, ascending: bool = False) -> tuple[list[Job], str]:
        return jobs_store.jobs.list(BUCKET, JobFilter(window=PageWindow(size=3, next_token=token, ascending=ascending)))

    page1, token = page(None)
    jobs_store.jobs.insert([pic_job(created=at(8)), pic_job(created=at(9))])
    page2, token2 = page(token)
    page3, token3 = page(token2)
    assert [j.job_id for j in page1 + page2 + page3] == [j.job_id for j in reversed(jobs)]
    assert token3 == ""

    oldest, token = page(None, ascending=True)
    rest, _ = page(token, ascending=True)
    assert [j.job_id for j in oldest + rest] == [j.job_id for j in jobs[:6]]


def test_a_page_that_ends_exactly_at_the_last_job_has_no_next_token(jobs_store: Store) -> None:
    jobs_store.jobs.insert([pic_job(), pic_job()])
    found, token = jobs_store.jobs.list(BUCKET, JobFilter(window=PageWindow(size=2)))
    assert len(found) == 2 and token == ""


def test_list_filters_by_tag_queue_workflow_batch_and_input_object(jobs_store: Store) -> None:
    plain = pic_job(key="a.png")
    other_key = pic_job(key="b.png")
    from_flow = pic_job(key="a.png", workflow_id="wflow1")
    from_batch = pic_job(key="a.png", inventory_trigger_job_id="bbatch1")
    animation = dataclasses.replace(pic_job(key="v.mp4", tag="Animation"), queue_id="pmediaqueue")
    jobs_store.jobs.insert([plain, other_key, from_flow, from_batch, animation])

    assert listed(jobs_store, input_object="b.png") == [other_key.job_id]
    assert listed(jobs_store, tag="Animation") == [animation.job_id]
    assert listed(jobs_store, queue_id="pmediaqueue") == [animation.job_id]
    assert listed(jobs_store, workflow_id="wflow1") == [from_flow.job_id]
    assert listed(jobs_store, inventory_trigger_job_id="bbatch1") == [from_batch.job_id]
    assert listed(jobs_store, tag="PicProcess", input_object="a.png") == [
        from_batch.job_id, from_flow.job_id, plain.job_id]
    assert listed(jobs_store, OTHER_BUCKET) == []


def test_list_window_takes_states_and_an_inclusive_creation_time_range(jobs_store: Store) -> None:
    early, middle, late = pic_job(created=at(10)), pic_job(created=at(20)), pic_job(created=at(30))
    jobs_store.jobs.insert([early, middle, late])
    jobs_store.jobs.cancel(BUCKET, middle.job_id, at(40))

    def window(**kwargs: object) -> list[str]:
        return listed(jobs_store, window=PageWindow(**kwargs))  # type: ignore[arg-type]

    assert window(start_creation=at(20), end_creation=at(30)) == [late.job_id, middle.job_id]
    assert window(end_creation=at(20)) == [middle.job_id, early.job_id]
    assert window(states=["Cancel"]) == [middle.job_id]
    assert window(states=["Submitted", "Running"]) == [late.job_id, early.job_id]


def test_a_waiting_job_can_be_canceled_and_says_so_when_read(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])

    outcome = jobs_store.jobs.cancel(BUCKET, job.job_id, at(5))

    assert (outcome.found, outcome.canceled, outcome.state) == (True, True, JobState.CANCEL)
    canceled = jobs_store.jobs.get(job.job_id)
    assert canceled is not None
    assert (canceled.state, canceled.code, canceled.end_time) == (JobState.CANCEL, "Cancel", at(5))
    assert jobs_store.job_queue.claim(at(6), 30) is None  # never handed to a worker


def test_a_running_job_is_asked_to_stop_and_a_finished_one_is_not_canceled(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    claim = jobs_store.job_queue.claim(at(1), 30)
    assert claim is not None

    outcome = jobs_store.jobs.cancel(BUCKET, job.job_id, at(2))
    assert (outcome.found, outcome.canceled, outcome.requested, outcome.state) == (True, False, True, JobState.RUNNING)
    assert jobs_store.jobs.get(job.job_id).state == JobState.RUNNING  # type: ignore[union-attr]  # its worker ends it

    jobs_store.job_queue.finish(job.job_id, claim.lease_token, at(3), JobState.SUCCESS, "Success", "", {})
    outcome = jobs_store.jobs.cancel(BUCKET, job.job_id, at(4))
    assert (outcome.found, outcome.canceled, outcome.requested, outcome.state) == (True, False, False, JobState.SUCCESS)


def test_canceling_another_buckets_job_finds_nothing_and_changes_nothing(jobs_store: Store) -> None:
    job = pic_job(OTHER_BUCKET)
    jobs_store.jobs.insert([job])
    assert not jobs_store.jobs.cancel(BUCKET, job.job_id, at(1)).found
    assert not jobs_store.jobs.cancel(BUCKET, "cnosuchjob", at(1)).found
    assert jobs_store.jobs.get(job.job_id).state == JobState.SUBMITTED  # type: ignore[union-attr]
