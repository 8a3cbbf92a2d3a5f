"""The job table as a queue, on SQLite and PostgreSQL: which job a worker gets, leases that lapse,
renewals, and a finish only the lease holder can write."""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
from collections.abc import Sequence

import pytest

from tests.support.builders import BUCKET, REGION, T0, at, pic_job
from wanxiang.model.job import JobState, QueueFamily
from wanxiang.model.queue import QueueState
from wanxiang.store.queue import Claim
from wanxiang.store.queues import default_queue_id
from wanxiang.store.store import Store

LEASE = 30.0


@pytest.fixture
def jobs_store(store: Store) -> Store:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    return store


def claim(store: Store, when: float = 1, lease: float = LEASE, tags: Sequence[str] | None = None) -> Claim | None:
    return store.job_queue.claim(at(when), lease, tags)


def claimed(store: Store, when: float = 1, lease: float = LEASE) -> Claim:
    got = claim(store, when, lease)
    assert got is not None
    return got


def set_queue(store: Store, state: QueueState, when: float = 0) -> None:
    queue_id = default_queue_id(BUCKET, QueueFamily.PIC)
    store.queues.update(queue_id, at(when), name=None, state=state.value, notify_config=None)


def test_claim_takes_higher_job_level_first_then_oldest(jobs_store: Store) -> None:
    low, high_old, high_new = pic_job(level=0), pic_job(level=2), pic_job(level=2)
    for job in (low, high_old, high_new):
        jobs_store.jobs.insert([job])

    order = [claimed(jobs_store).job.job_id for _ in range(3)]

    assert order == [high_old.job_id, high_new.job_id, low.job_id]
    assert claim(jobs_store) is None


def test_a_claimed_job_is_running_since_the_claim(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])

    got = claimed(jobs_store, when=7)

    assert got.job.job_id == job.job_id and got.job.state == JobState.RUNNING and got.job.start_time == at(7)
    stored = jobs_store.jobs.get(job.job_id)
    assert stored is not None and stored.state == JobState.RUNNING and stored.start_time == at(7)


def test_paused_queue_holds_jobs_until_resumed(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    set_queue(jobs_store, QueueState.PAUSED)

    assert claim(jobs_store) is None
    stored = jobs_store.jobs.get(job.job_id)
    assert stored is not None and stored.state == JobState.SUBMITTED

    set_queue(jobs_store, QueueState.ACTIVE)
    assert claimed(jobs_store).job.job_id == job.job_id


def test_a_paused_queue_does_not_hold_up_the_other_queues(jobs_store: Store) -> None:
    waiting = pic_job(level=9)
    media = dataclasses.replace(pic_job(tag="Animation"), queue_id=default_queue_id(BUCKET, QueueFamily.MEDIA))
    jobs_store.jobs.insert([waiting, media])
    set_queue(jobs_store, QueueState.PAUSED)

    assert claimed(jobs_store).job.job_id == media.job_id
    assert claim(jobs_store) is None


def test_a_worker_with_some_engines_claims_only_their_tags(jobs_store: Store) -> None:
    pic, animation = pic_job(level=0), pic_job(tag="Animation", level=5)
    jobs_store.jobs.insert([pic, animation])

    assert claimed_tags(jobs_store, ["PicProcess"]) == pic.job_id
    assert claim(jobs_store, tags=["PicProcess"]) is None
    assert claimed_tags(jobs_store, ["Animation", "Translation"]) == animation.job_id


def claimed_tags(store: Store, tags: Sequence[str]) -> str:
    got = claim(store, tags=tags)
    assert got is not None
    return got.job.job_id


def test_expired_lease_lets_another_worker_claim(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    first = claimed(jobs_store, when=0, lease=10)

    assert jobs_store.job_queue.release_expired(at(9)) == 0
    assert claim(jobs_store, when=9) is None
    assert jobs_store.job_queue.release_expired(at(11)) == 1
    second = claimed(jobs_store, when=11)

    assert second.job.job_id == job.job_id and second.lease_token != first.lease_token


def test_a_renewed_lease_does_not_lapse_and_carries_progress(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    got = claimed(jobs_store, when=0, lease=10)

    assert jobs_store.job_queue.renew(job.job_id, got.lease_token, at(8), 10, progress=40)

    assert jobs_store.job_queue.release_expired(at(15)) == 0
    stored = jobs_store.jobs.get(job.job_id)
    assert stored is not None and stored.state == JobState.RUNNING and stored.progress == 40
    assert jobs_store.job_queue.renew(job.job_id, got.lease_token, at(16), 10)  # progress kept when not given
    assert jobs_store.jobs.get(job.job_id).progress == 40  # type: ignore[union-attr]


def test_a_worker_that_lost_its_lease_can_neither_renew_nor_finish(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    stale = claimed(jobs_store, when=0, lease=1)
    jobs_store.job_queue.release_expired(at(5))
    current = claimed(jobs_store, when=5)

    assert not jobs_store.job_queue.renew(job.job_id, stale.lease_token, at(6), LEASE)
    assert jobs_store.job_queue.finish(job.job_id, stale.lease_token, at(6), JobState.FAILED, "X", "stale", {}) is None
    done = jobs_store.job_queue.finish(job.job_id, current.lease_token, at(7), JobState.SUCCESS, "Success", "", {"R": "1"})

    assert done is not None and done.state == JobState.SUCCESS and done.result == {"R": "1"}
    stored = jobs_store.jobs.get(job.job_id)
    assert stored is not None and (stored.state, stored.result, stored.end_time) == (JobState.SUCCESS, {"R": "1"}, at(7))


def test_finishing_records_the_outcome_once(jobs_store: Store) -> None:
    ok, bad = pic_job(), pic_job()
    jobs_store.jobs.insert([ok, bad])
    first, second = claimed(jobs_store), claimed(jobs_store)

    success = jobs_store.job_queue.finish(first.job.job_id, first.lease_token, at(2), JobState.SUCCESS, "Success", "",
                                     {"PicProcessResult": {"ObjectName": "out/a.png"}})
    failure = jobs_store.job_queue.finish(second.job.job_id, second.lease_token, at(3), JobState.FAILED,
                                     "InputObjectNotExist", "in/a.png does not exist", {})

    assert success is not None and (success.progress, success.end_time) == (100, at(2))
    assert failure is not None and (failure.code, failure.message) == ("InputObjectNotExist", "in/a.png does not exist")
    assert jobs_store.job_queue.finish(first.job.job_id, first.lease_token, at(4), JobState.FAILED, "X", "", {}) is None
    assert jobs_store.job_queue.release_expired(at(10_000)) == 0
    assert claim(jobs_store, when=10_000) is None


def test_a_job_whose_workers_keep_dying_fails_instead_of_looping(jobs_store: Store) -> None:
    job = pic_job()
    jobs_store.jobs.insert([job])
    moment = 0.0
    for _ in range(5):
        assert claim(jobs_store, when=moment, lease=1) is not None
        moment += 5
        jobs_store.job_queue.release_expired(at(moment))

    final = jobs_store.jobs.get(job.job_id)
    assert final is not None and final.state == JobState.FAILED and final.code == "WorkerLost"
    assert claim(jobs_store, when=moment) is None


def test_new_work_wakes_the_embedded_workers(jobs_store: Store) -> None:
    woken: list[str] = []
    jobs_store.jobs.wake_hooks.append(lambda: woken.append("wake"))
    jobs_store.jobs.insert([pic_job()])
    assert woken == ["wake"]


def _claim_all(url: str, schema: str | None, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store.open(url, schema=schema, run_migrations=False)
    got = []
    while (one := store.job_queue.claim(at(1), LEASE)) is not None:
        got.append(one.job.job_id)
    out.put(got)
    store.close()


def test_two_processes_claiming_at_once_never_take_the_same_job(jobs_store: Store) -> None:
    jobs = [pic_job(level=i % 3) for i in range(60)]
    jobs_store.jobs.insert(jobs)
    url = jobs_store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[list[str]] = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(url, _schema_of(jobs_store), out)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=60) for _ in procs]
    except queue.Empty:
        pytest.fail("a claiming process did not report")
    finally:
        for p in procs:
            p.join(30)
    claimed_ids = results[0] + results[1]
    assert sorted(claimed_ids) == sorted(j.job_id for j in jobs)
    assert len(set(claimed_ids)) == len(claimed_ids)


def _schema_of(store: Store) -> str | None:
    if store.dialect != "postgresql":
        return None
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT current_schema()").scalar())


def test_a_worker_whose_connection_the_database_dropped_claims_again_on_a_fresh_one(jobs_store: Store) -> None:
    if jobs_store.dialect != "postgresql":
        pytest.skip("only a database server can drop a connection")
    from sqlalchemy import NullPool, create_engine, text

    first, second = pic_job(), pic_job()
    jobs_store.jobs.insert([first, second])
    held = claimed(jobs_store)
    # Every connection now in this store's pool, dropped by the server (as by a restart or a
    # proxy's idle cut); other sessions on the same server are left alone.
    pooled = [jobs_store.engine.raw_connection() for _ in range(jobs_store.engine.pool.checkedin())]
    pids = [conn.driver_connection.info.backend_pid for conn in pooled]  # type: ignore[union-attr]
    for conn in pooled:
        conn.close()
    outside = create_engine(jobs_store.engine.url, poolclass=NullPool)
    with outside.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                      {"pids": pids})
        admin.commit()
    outside.dispose()

    outcomes = []
    for _ in range(6):  # each pooled connection the database dropped fails once, then is replaced
        try:
            outcomes.append(jobs_store.job_queue.finish(held.job.job_id, held.lease_token, at(2), JobState.SUCCESS,
                                                        "Success", "", {}))
            break
        except Exception as error:  # noqa: BLE001 - the dropped connection's one failure
            outcomes.append(type(error).__name__)

    assert len(outcomes) <= 2  # one failure at most: the dropped connection is not pooled again
    assert outcomes[-1] is not None and outcomes[-1].state == JobState.SUCCESS
    assert claimed(jobs_store, when=3).job.job_id == second.job_id


def test_a_claim_finds_its_job_by_key_however_long_the_queue(jobs_store: Store) -> None:
    """A claim's cost must not grow with the jobs waiting: the one it takes is updated through the
    primary key, never by walking the Submitted jobs (a plan PostgreSQL picked on a new table)."""
    if jobs_store.dialect != "postgresql":
        pytest.skip("the plan of PostgreSQL's one-statement claim")
    import json

    from sqlalchemy import text

    from wanxiang.store.queue import load_queries

    jobs_store.jobs.insert([pic_job() for _ in range(500)])
    claim_sql = load_queries("postgresql")["claim"]
    with jobs_store.engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + claim_sql),
                            {"now": 1, "token": "t", "expires": 2}).scalar_one()
        conn.rollback()
    nodes = json.loads(plan) if isinstance(plan, str) else plan

    def scans(node: dict[str, object]) -> list[dict[str, object]]:
        children = node.get("Plans", [])
        assert isinstance(children, list)
        return [node, *(found for child in children for found in scans(child))]

    update = nodes[0]["Plan"]
    # The rows the UPDATE itself read (its own child, not the candidate's CTE): one, by jobs_pkey.
    target = [n for n in update["Plans"] if n.get("Parent Relationship") == "Outer"]
    read = [n for n in scans(target[0]) if n.get("Relation Name") == "jobs"]
    assert [(n["Index Name"], n["Actual Rows"]) for n in read] == [("jobs_pkey", 1)]
