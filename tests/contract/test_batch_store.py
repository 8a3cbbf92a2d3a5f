"""Batch jobs (inventory trigger jobs), on SQLite and PostgreSQL: the walk's lease and cursor,
children once per object, cancel, settle, and the list."""

from __future__ import annotations

from tests.support.builders import (
    BUCKET,
    OTHER_BUCKET,
    REGION,
    T0,
    at,
    batch,
    execution_of,
    pic_job,
    workflow,
)
from wanxiang.model.batch import Batch, BatchType
from wanxiang.model.job import JobState
from wanxiang.store.batches import BatchChild, BatchFilter
from wanxiang.store.executions import ExecutionStart
from wanxiang.store.paging import PageWindow
from wanxiang.store.store import Store

LEASE = 30.0


def saved(store: Store, **kwargs: object) -> Batch:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    one = batch(**kwargs)  # type: ignore[arg-type]
    store.batches.insert(one)
    return one


def children(owner: Batch, *keys: str) -> list[BatchChild]:
    """One PicProcess child job per object key, as the walker builds them."""
    made = []
    for key in keys:
        job = pic_job(key=key, inventory_trigger_job_id=owner.job_id)
        made.append(BatchChild(key, job.job_id, jobs=[job]))
    return made


def test_a_submitted_batch_reads_back_in_its_bucket_only(store: Store) -> None:
    one = saved(store, name="每晚")
    assert store.batches.get(BUCKET, one.job_id) == one
    assert store.batches.get(OTHER_BUCKET, one.job_id) is None


def test_walkers_take_the_oldest_batch_first_and_each_batch_once_while_leased(store: Store) -> None:
    older, newer = saved(store, created=at(0)), saved(store, created=at(1))

    first = store.batches.claim_walk(at(10), LEASE)
    second = store.batches.claim_walk(at(10), LEASE)

    assert first is not None and second is not None
    assert (first.batch.job_id, second.batch.job_id) == (older.job_id, newer.job_id)
    assert first.batch.state == JobState.RUNNING and first.batch.start_time == at(10)
    assert store.batches.claim_walk(at(11), LEASE) is None


def test_a_walker_that_stops_renewing_loses_the_batch_to_another_and_cannot_commit(store: Store) -> None:
    one = saved(store)
    stale = store.batches.claim_walk(at(0), LEASE)
    assert stale is not None

    fresh = store.batches.claim_walk(at(LEASE + 1), LEASE)

    assert fresh is not None and fresh.batch.job_id == one.job_id and fresh.lease_token != stale.lease_token
    assert fresh.batch.start_time == at(0)  # the walk started when it was first taken
    assert store.batches.commit_page(one.job_id, stale.lease_token, "in/b.png", False, children(one, "in/a.png")) == -1
    assert store.batches.items(one.job_id) == []
    assert store.batches.commit_page(one.job_id, fresh.lease_token, "in/a.png", False, children(one, "in/a.png")) == 1


def test_a_committed_page_stores_its_children_and_cursor_and_frees_the_batch(store: Store) -> None:
    one = saved(store)
    claim = store.batches.claim_walk(at(0), LEASE)
    assert claim is not None
    page = children(one, "in/a.png", "in/b.png")

    assert store.batches.commit_page(one.job_id, claim.lease_token, "in/b.png", False, page) == 2

    walked = store.batches.get(BUCKET, one.job_id)
    assert walked is not None and (walked.cursor, walked.submitted, walked.walk_done) == ("in/b.png", 2, False)
    assert store.batches.items(one.job_id) == [("in/a.png", page[0].child_id), ("in/b.png", page[1].child_id)]
    child = store.jobs.get(page[0].child_id)
    assert child is not None and child.state == JobState.SUBMITTED and child.inventory_trigger_job_id == one.job_id
    # Given back: the next page can be taken at once, from the stored cursor.
    again = store.batches.claim_walk(at(1), LEASE)
    assert again is not None and again.batch.cursor == "in/b.png"


def test_a_page_committed_again_after_a_crash_adds_no_object_twice(store: Store) -> None:
    one = saved(store)
    first = store.batches.claim_walk(at(0), LEASE)
    assert first is not None
    store.batches.commit_page(one.job_id, first.lease_token, "in/b.png", False, children(one, "in/a.png", "in/b.png"))
    replay = store.batches.claim_walk(at(1), LEASE)
    assert replay is not None

    added = store.batches.commit_page(one.job_id, replay.lease_token, "in/c.png", True,
                                      children(one, "in/b.png", "in/c.png"))

    assert added == 1
    assert [key for key, _ in store.batches.items(one.job_id)] == ["in/a.png", "in/b.png", "in/c.png"]
    walked = store.batches.get(BUCKET, one.job_id)
    assert walked is not None and walked.submitted == 3 and walked.walk_done
    assert store.batches.claim_walk(at(2), LEASE) is None  # nothing left to walk


def test_canceling_a_batch_cancels_its_waiting_children_and_refuses_later_pages(store: Store) -> None:
    one = saved(store)
    claim = store.batches.claim_walk(at(0), LEASE)
    assert claim is not None
    page = children(one, "in/a.png", "in/b.png")
    store.batches.commit_page(one.job_id, claim.lease_token, "in/b.png", False, page)
    running = store.job_queue.claim(at(1), LEASE)
    assert running is not None
    walker = store.batches.claim_walk(at(2), LEASE)
    assert walker is not None

    canceled = store.batches.cancel(BUCKET, one.job_id, at(3))

    assert canceled is not None and canceled.state == JobState.CANCEL and canceled.end_time == at(3)
    states = {c.child_id: store.jobs.get(c.child_id).state for c in page}  # type: ignore[union-attr]
    assert states[running.job.job_id] == JobState.RUNNING  # a running child finishes its work
    assert sorted(states.values()) == [JobState.CANCEL, JobState.RUNNING]
    assert store.batches.commit_page(one.job_id, walker.lease_token, "in/c.png", True, children(one, "in/c.png")) == -1
    assert store.batches.claim_walk(at(4), LEASE) is None
    assert store.batches.cancel(BUCKET, one.job_id, at(5)) == canceled  # canceling again changes nothing
    assert store.batches.cancel(OTHER_BUCKET, one.job_id, at(5)) is None


def test_a_walked_batch_settles_once_from_its_childrens_states(store: Store) -> None:
    one = saved(store)
    claim = store.batches.claim_walk(at(0), LEASE)
    assert claim is not None
    page = children(one, "in/a.png", "in/b.png")
    store.batches.commit_page(one.job_id, claim.lease_token, "in/b.png", True, page)
    job = store.job_queue.claim(at(1), LEASE)
    assert job is not None
    store.job_queue.finish(job.job.job_id, job.lease_token, at(2), JobState.SUCCESS, "Success", "", {})

    [candidate] = store.batches.settle_candidates(at(3))
    counts = store.batches.child_counts(candidate)

    assert (counts.total, counts.of(JobState.SUCCESS), counts.of(JobState.SUBMITTED)) == (2, 1, 1)
    assert store.batches.settle(one.job_id, at(4), JobState.FAILED, "PartialFailure", "1 of 2")
    assert not store.batches.settle(one.job_id, at(5), JobState.SUCCESS, "Success", "")
    ended = store.batches.get(BUCKET, one.job_id)
    assert ended is not None and (ended.state, ended.code, ended.end_time) == (JobState.FAILED, "PartialFailure", at(4))
    assert store.batches.settle_candidates(at(6)) == []


def test_settle_candidates_come_least_recently_checked_first(store: Store) -> None:
    done = []
    for i in range(3):
        one = saved(store, created=at(i))
        claim = store.batches.claim_walk(at(10), LEASE)
        assert claim is not None
        store.batches.commit_page(one.job_id, claim.lease_token, "", True, [])
        done.append(one.job_id)

    checked_first = {b.job_id for b in store.batches.settle_candidates(at(20), limit=2)}
    [unchecked] = store.batches.settle_candidates(at(21), limit=1)
    [next_up] = store.batches.settle_candidates(at(22), limit=1)

    assert unchecked.job_id not in checked_first and next_up.job_id in checked_first


def test_a_workflow_batch_counts_its_executions_as_children(store: Store) -> None:
    flow = workflow()
    store.workflows.insert(flow)
    one = saved(store, type=BatchType.WORKFLOW, workflow_id=flow.workflow_id)
    claim = store.batches.claim_walk(at(0), LEASE)
    assert claim is not None
    runs = [execution_of(flow, key, batch_id=one.job_id) for key in ("in/a.png", "in/b.png")]
    page = [BatchChild(r.object_key, r.run_id, execution=ExecutionStart(r)) for r in runs]

    assert store.batches.commit_page(one.job_id, claim.lease_token, "in/b.png", True, page) == 2

    assert store.executions.get(BUCKET, runs[0].run_id) is not None
    store.executions.settle(runs[0].run_id, at(1), JobState.SUCCESS, [])
    stored = store.batches.get(BUCKET, one.job_id)
    assert stored is not None
    counts = store.batches.child_counts(stored)
    assert (counts.total, counts.of(JobState.SUCCESS), counts.of(JobState.RUNNING)) == (2, 1, 1)


def test_batch_list_filters_and_pages_by_keyset_while_batches_arrive(store: Store) -> None:
    flow = workflow()
    made = [saved(store, name=f"n{i}", created=at(i)) for i in range(5)]
    flows = saved(store, name="wf", type=BatchType.WORKFLOW, workflow_id=flow.workflow_id, created=at(5))

    def page(token: str | None, **filters: object) -> tuple[list[str], str]:
        found, next_token = store.batches.list(
            BUCKET, BatchFilter(window=PageWindow(size=2, next_token=token), **filters))  # type: ignore[arg-type]
        return [b.job_id for b in found], next_token

    seen, token = page(None, type="Job")
    saved(store, name="late", created=at(9))
    while token:
        more, token = page(token, type="Job")
        seen += more
    assert seen == [b.job_id for b in reversed(made)]

    assert page(None, workflow_id=flow.workflow_id)[0] == [flows.job_id]
    assert page(None, name="n3")[0] == [made[3].job_id]
    assert page(None, job_id=made[1].job_id)[0] == [made[1].job_id]
    oldest_first, _ = store.batches.list(BUCKET, BatchFilter(type="Job", window=PageWindow(ascending=True, size=2)))
    assert [b.job_id for b in oldest_first] == [made[0].job_id, made[1].job_id]
    assert store.batches.list(OTHER_BUCKET, BatchFilter()) == ([], "")
