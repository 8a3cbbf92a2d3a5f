"""Queues, on SQLite and PostgreSQL: a bucket's default queues, pausing and resuming, listing."""

from __future__ import annotations

from tests.support.builders import BUCKET, OTHER_BUCKET, REGION, T0, at
from wanxiang.model.job import FAMILY_CATEGORY, QueueFamily
from wanxiang.model.queue import QueueState
from wanxiang.store.queues import QueueStore, default_queue_id
from wanxiang.store.store import Store


def test_a_bucket_used_for_the_first_time_gets_one_active_queue_per_family(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)

    for family in QueueFamily:
        queues, total = store.queues.list(BUCKET, family.value)
        assert total == 1
        [queue] = queues
        assert queue.queue_id == default_queue_id(BUCKET, family)
        assert (queue.name, queue.state, queue.category) == (f"{family.value}-default", QueueState.ACTIVE,
                                                             FAMILY_CATEGORY[family])
        assert queue.create_time == queue.update_time == T0
        assert (queue.max_size, queue.max_concurrent, queue.notify_config) == (10000, 10, {})


def test_two_processes_registering_the_same_bucket_agree_on_its_queues(store: Store) -> None:
    # A second API process has its own QueueStore (and its own memory of known buckets).
    other_process = QueueStore(store.engine)
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    other_process.ensure_bucket(BUCKET, REGION, at(1))
    store.queues.ensure_bucket(BUCKET, REGION, at(2))

    queues, total = other_process.list(BUCKET, QueueFamily.PIC.value)
    assert total == 1 and queues[0].queue_id == default_queue_id(BUCKET, QueueFamily.PIC)
    assert queues[0].create_time == T0


def test_buckets_do_not_see_each_others_queues(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    store.queues.ensure_bucket(OTHER_BUCKET, REGION, T0)
    mine = default_queue_id(BUCKET, QueueFamily.PIC)

    assert mine != default_queue_id(OTHER_BUCKET, QueueFamily.PIC)
    assert store.queues.list(OTHER_BUCKET, QueueFamily.PIC.value, queue_ids=[mine]) == ([], 0)
    assert store.queues.list("unknown-1250000000", QueueFamily.PIC.value) == ([], 0)


def test_pausing_a_queue_changes_its_state_and_update_time_and_keeps_the_rest(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    queue_id = default_queue_id(BUCKET, QueueFamily.PIC)

    paused = store.queues.update(queue_id, at(60), name=None, state=QueueState.PAUSED.value, notify_config=None)

    assert paused is not None and paused.state == QueueState.PAUSED
    assert paused.name == "picqueue-default" and paused.create_time == T0 and paused.update_time == at(60)
    assert store.queues.get(queue_id) == paused


def test_renaming_and_setting_notify_config_are_kept_verbatim(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    queue_id = default_queue_id(BUCKET, QueueFamily.AI)
    config = {"State": "On", "Type": "Url", "Url": "https://hooks.example.com/队列", "Event": "TaskFinish"}

    store.queues.update(queue_id, at(1), name="审核队列", state=None, notify_config=config)

    queue = store.queues.get(queue_id)
    assert queue is not None
    assert (queue.name, queue.notify_config, queue.state) == ("审核队列", config, QueueState.ACTIVE)


def test_updating_an_unknown_queue_finds_nothing_and_creates_nothing(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    assert store.queues.update("pnosuchqueue", at(1), name="x", state="Paused", notify_config=None) is None
    assert store.queues.get("pnosuchqueue") is None


def test_list_filters_by_state_and_by_queue_ids(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    pic = default_queue_id(BUCKET, QueueFamily.PIC)
    store.queues.update(pic, at(1), name=None, state="Paused", notify_config=None)

    assert store.queues.list(BUCKET, "picqueue", state="Paused")[1] == 1
    assert store.queues.list(BUCKET, "picqueue", state="Active") == ([], 0)
    assert store.queues.list(BUCKET, "queue", state="Paused") == ([], 0)
    found, total = store.queues.list(BUCKET, "picqueue", queue_ids=[pic, "pnosuchqueue"])
    assert total == 1 and [q.queue_id for q in found] == [pic]


def test_a_page_past_the_last_is_empty_but_still_counts_every_queue(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    assert store.queues.list(BUCKET, "picqueue", page_number=2, page_size=1) == ([], 1)


def test_resuming_a_queue_wakes_the_embedded_workers_and_pausing_does_not(store: Store) -> None:
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    queue_id = default_queue_id(BUCKET, QueueFamily.PIC)
    woken: list[str] = []
    store.queues.wake_hooks.append(lambda: woken.append("wake"))

    store.queues.update(queue_id, at(1), name=None, state="Paused", notify_config=None)
    assert woken == []
    store.queues.update(queue_id, at(2), name=None, state="Active", notify_config=None)
    assert woken == ["wake"]
