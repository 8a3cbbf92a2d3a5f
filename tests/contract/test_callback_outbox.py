"""The callback outbox, on SQLite and PostgreSQL: what is queued is handed to one deliverer at a
time, retried at its backoff time, and ends Delivered or Failed with every attempt counted."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from tests.support.builders import BUCKET, REGION, T0, at, pic_job
from wanxiang.model.ids import new_id
from wanxiang.model.job import JobState
from wanxiang.store import outbox
from wanxiang.store.callbacks import DueCallback
from wanxiang.store.codec import to_us
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.store import Store
from wanxiang.store.tx import write

LEASE = 60.0


def queued(store: Store, when: float = 0, url: str = "https://hooks.example.com/a", payload: str = "<Response/>") -> str:
    """A notification owed by a (finished) job, put in the outbox as of ``at(when)``; the job's id."""
    job_id = new_id("c")
    with write(store.engine) as conn:
        outbox.enqueue(conn, job_id, [PendingCallback("TaskFinish", url, "application/xml", payload)], to_us(at(when)))
    return job_id


def test_a_finished_jobs_callback_is_due_at_once_with_its_payload(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    job = pic_job()
    store.jobs.insert([job])
    claim = store.job_queue.claim(at(0), LEASE)
    assert claim is not None
    plan = [PendingCallback("TaskFinish", "https://hooks.example.com/t", "application/xml", "<Response>任务</Response>")]
    finished = store.job_queue.finish(job.job_id, claim.lease_token, at(1), JobState.SUCCESS, "Success", "", {},
                                      callbacks=plan)

    [due] = store.callbacks.claim_due(at(1))

    assert finished is not None and finished.state == JobState.SUCCESS and finished.progress == 100
    assert (due.job_id, due.event, due.url, due.content_type, due.payload, due.attempts) == (
        job.job_id, "TaskFinish", "https://hooks.example.com/t", "application/xml", "<Response>任务</Response>", 0)


def test_a_job_whose_finish_lost_the_lease_queues_no_callback(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    job = pic_job()
    store.jobs.insert([job])
    claim = store.job_queue.claim(at(0), LEASE)
    assert claim is not None
    plan = [PendingCallback("TaskFinish", "https://hooks.example.com/t", "application/xml", "<x/>")]

    assert store.job_queue.finish(job.job_id, "not-the-lease", at(1), JobState.SUCCESS, "Success", "", {},
                                  callbacks=plan) is None
    assert store.callbacks.for_job(job.job_id) == []


def test_a_notification_enqueued_with_a_transaction_that_rolls_back_is_never_sent(store: Store) -> None:
    with pytest.raises(RuntimeError), write(store.engine) as conn:
        outbox.enqueue(conn, "cgone", [PendingCallback("TaskFinish", "https://h.example.com", "text/xml", "<x/>")], 0)
        raise RuntimeError("the finish failed after queuing its callback")
    assert store.callbacks.claim_due(at(10)) == []
    assert store.callbacks.for_job("cgone") == []


def test_several_notifications_of_one_job_keep_their_order(store: Store) -> None:
    owed = [PendingCallback("TaskFinish", f"https://hooks.example.com/{n}", "application/json", f"{{\"n\":{n}}}")
            for n in range(3)]
    with write(store.engine) as conn:
        outbox.enqueue(conn, "cmany", owed, to_us(at(0)))
    assert [(r.url, r.payload, r.state) for r in store.callbacks.for_job("cmany")] == [
        (cb.url, cb.payload, "Pending") for cb in owed]


def test_a_claimed_callback_is_not_handed_out_again_until_its_lease_lapses(store: Store) -> None:
    run_id = queued(store)
    [first] = store.callbacks.claim_due(at(0), lease_seconds=LEASE)

    assert store.callbacks.claim_due(at(LEASE - 1)) == []
    [again] = store.callbacks.claim_due(at(LEASE), lease_seconds=LEASE)
    assert again.seq == first.seq and again.job_id == run_id and again.lease_token != first.lease_token


def test_a_delivered_callback_is_never_sent_again(store: Store) -> None:
    run_id = queued(store)
    [due] = store.callbacks.claim_due(at(0))

    store.callbacks.record(due, at(1), 200, "", None, give_up=False)

    assert store.callbacks.claim_due(at(10_000)) == []
    [record] = store.callbacks.for_job(run_id)
    assert (record.state, record.attempts, record.last_error) == ("Delivered", 1, "")


def test_a_failed_attempt_is_retried_at_its_backoff_time(store: Store) -> None:
    run_id = queued(store)
    [due] = store.callbacks.claim_due(at(0))

    store.callbacks.record(due, at(1), 503, "HTTP 503", at(31), give_up=False)

    [record] = store.callbacks.for_job(run_id)
    assert (record.state, record.attempts, record.last_error) == ("Pending", 1, "HTTP 503")
    assert store.callbacks.claim_due(at(30)) == []
    [retry] = store.callbacks.claim_due(at(31))
    assert retry.seq == due.seq and retry.attempts == 1


def test_giving_up_marks_the_callback_failed_and_keeps_the_last_error(store: Store) -> None:
    run_id = queued(store)
    [due] = store.callbacks.claim_due(at(0))
    store.callbacks.record(due, at(1), None, "connection refused", None, give_up=True)

    assert store.callbacks.claim_due(at(10_000)) == []
    [record] = store.callbacks.for_job(run_id)
    assert (record.state, record.attempts, record.last_error) == ("Failed", 1, "connection refused")


def test_a_deliverer_whose_lease_lapsed_cannot_overwrite_the_outcome(store: Store) -> None:
    run_id = queued(store)
    [slow] = store.callbacks.claim_due(at(0), lease_seconds=LEASE)
    [fast] = store.callbacks.claim_due(at(LEASE + 1), lease_seconds=LEASE)
    store.callbacks.record(fast, at(LEASE + 2), 200, "", None, give_up=False)

    store.callbacks.record(slow, at(LEASE + 3), None, "timed out", None, give_up=True)

    [record] = store.callbacks.for_job(run_id)
    assert (record.state, record.last_error) == ("Delivered", "")


def test_a_very_long_error_is_kept_bounded(store: Store) -> None:
    run_id = queued(store)
    [due] = store.callbacks.claim_due(at(0))
    store.callbacks.record(due, at(1), 500, "x" * 100_000, at(2), give_up=False)
    [record] = store.callbacks.for_job(run_id)
    assert record.last_error == "x" * 2000


def test_due_callbacks_come_oldest_first_and_limit_bounds_a_batch(store: Store) -> None:
    runs = [queued(store, when=i) for i in range(4)]
    taken = store.callbacks.claim_due(at(10), limit=3)
    assert [d.job_id for d in taken] == runs[:3]
    assert [d.job_id for d in store.callbacks.claim_due(at(10))] == runs[3:]


def test_callbacks_not_yet_due_wait(store: Store) -> None:
    queued(store, when=100)
    assert store.callbacks.claim_due(at(99)) == []
    assert len(store.callbacks.claim_due(at(100))) == 1


def test_deliverers_claiming_at_once_never_take_the_same_callback(store: Store) -> None:
    runs = {queued(store) for _ in range(24)}
    start = threading.Barrier(4)
    taken: list[DueCallback] = []
    lock = threading.Lock()

    def deliver() -> None:
        start.wait()
        while batch := store.callbacks.claim_due(at(1), limit=2):
            with lock:
                taken.extend(batch)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(d.job_id for d in taken) == sorted(runs)


def test_asking_for_due_callbacks_when_none_are_due_does_not_wait_for_the_write_lock(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite's one write lock: PostgreSQL writers don't queue behind each other")
    queued(store, when=100)  # owed, but not due yet
    asked: list[object] = []
    with write(store.engine) as conn:  # another writer (a group commit, say) holds the lock
        conn.execute(text("SELECT 1"))
        asker = threading.Thread(target=lambda: asked.append(store.callbacks.claim_due(at(10))))
        asker.start()
        asker.join(20)  # well under the 30 s busy timeout a write transaction would wait
        answered = not asker.is_alive()
    asker.join()
    assert answered and asked == [[]]
