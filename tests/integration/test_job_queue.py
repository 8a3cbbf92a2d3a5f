"""The worker's queue (store/queue.sql) on real SQLite and PostgreSQL: Tag-narrowed claims and
the callbacks written with a job's outcome."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from tests.integration.test_job_store import fresh, make_job
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.schema import callbacks
from wanxiang.store.store import Store


def test_a_worker_that_runs_some_tags_claims_only_jobs_of_those_tags(store: Store) -> None:
    fresh(store)
    picture, speech = make_job(), replace(make_job(level=1), tag="SpeechRecognition")
    store.jobs.insert([picture, speech])
    first = store.job_queue.claim(times.now(), 30, tags=["PicProcess"])
    assert first is not None and first.job.job_id == picture.job_id
    assert store.job_queue.claim(times.now(), 30, tags=["PicProcess", "Animation"]) is None
    rest = store.job_queue.claim(times.now(), 30)
    assert rest is not None and rest.job.job_id == speech.job_id


def test_callbacks_prepared_for_a_finish_are_queued_only_when_the_finish_counts(store: Store) -> None:
    fresh(store)
    job = make_job()
    store.jobs.insert([job])
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None
    owed = [PendingCallback("TaskFinish", "https://hook.example.com/done", "application/xml", "<Response/>")]
    assert store.job_queue.finish(job.job_id, "not-the-lease", times.now(), JobState.SUCCESS, "Success", "", {}, owed) is None
    done = store.job_queue.finish(job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {}, owed)
    assert done is not None and done.state == JobState.SUCCESS and done.progress == 100
    with store.engine.connect() as conn:
        queued = conn.execute(select(callbacks.c.job_id, callbacks.c.url, callbacks.c.payload)).all()
    assert [tuple(row) for row in queued] == [(job.job_id, "https://hook.example.com/done", "<Response/>")]
