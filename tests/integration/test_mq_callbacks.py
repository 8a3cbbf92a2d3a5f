"""TDMQ callbacks from the real outbox to the real RabbitMQ: a durable queue, a topic exchange,
and a broker that is away for a while (nothing is lost, every attempt is recorded)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.builders import BUCKET, REGION, pic_job
from tests.support.rabbit import (
    MQ_URL,
    Relay,
    channel,
    delete_exchange,
    delete_queue,
    get_messages,
    require_rabbitmq,
    restart_broker,
    unique_name,
)
from wanxiang.callbacks.deliver import Deliverer
from wanxiang.callbacks.mq import MqPublisher
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.model.notify import MqTarget
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.store import Store


@pytest.fixture
def queue_name() -> Iterator[str]:
    require_rabbitmq()
    name = unique_name("q")
    yield name
    delete_queue(name)


def finish_with(store: Store, target: str, payload: str, content_type: str = "application/json") -> str:
    """A job that finished owing one TaskFinish notification to ``target``; its id."""
    store.queues.ensure_bucket(BUCKET, REGION, times.now())
    store.jobs.insert([pic_job(created=times.now())])
    claim = store.job_queue.claim(times.now(), 30)
    assert claim is not None
    store.job_queue.finish(
        claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {},
        callbacks=[PendingCallback("TaskFinish", target, content_type, payload)],
    )
    return claim.job.job_id


def test_a_task_finish_lands_on_a_durable_queue_once_the_broker_confirms(store: Store, queue_name: str) -> None:
    body = json.dumps({"EventName": "TaskFinish", "JobsDetail": {"State": "Success"}})
    job_id = finish_with(store, MqTarget("gz", "Queue", queue_name).url(), body)
    with MqPublisher(MQ_URL) as mq:
        assert Deliverer(store.callbacks, mq=mq).deliver_due() == 1
    [(properties, received)] = get_messages(queue_name, 1)
    assert json.loads(received) == json.loads(body)
    assert properties.content_type == "application/json" and properties.delivery_mode == 2
    assert properties.message_id.startswith(job_id + "/") and properties.type == "TaskFinish"
    [record] = store.callbacks.for_job(job_id)
    assert (record.state, record.attempts, record.last_error) == ("Delivered", 1, "")
    with channel() as ch:  # the queue we made is durable: it outlives a broker restart
        assert ch.queue_declare(queue_name, passive=True).method.queue == queue_name


def test_a_topic_target_publishes_to_a_topic_exchange_under_the_event_name(store: Store) -> None:
    require_rabbitmq()
    exchange, bound = unique_name("topic"), unique_name("bound")
    try:
        with channel() as ch:  # a subscriber: its own queue bound to the topic
            ch.exchange_declare(exchange, exchange_type="topic", durable=True)
            ch.queue_declare(bound)
            ch.queue_bind(bound, exchange, routing_key="TaskFinish")
        job_id = finish_with(store, MqTarget("sh", "Topic", exchange).url(), "<Response/>", "application/xml")
        with MqPublisher(MQ_URL) as mq:
            Deliverer(store.callbacks, mq=mq).deliver_due()
        [(properties, received)] = get_messages(bound, 1)
        assert received == b"<Response/>" and properties.content_type == "application/xml"
        assert store.callbacks.for_job(job_id)[0].state == "Delivered"
    finally:
        delete_queue(bound)
        delete_exchange(exchange)


def test_a_broker_away_for_a_while_loses_nothing(store: Store, queue_name: str) -> None:
    relay = Relay()
    try:
        first = finish_with(store, MqTarget("", "Queue", queue_name).url(), '{"n":1}')
        mq = MqPublisher(relay.url, timeout=3)
        deliverer = Deliverer(store.callbacks, mq=mq, backoff_seconds=0)
        deliverer.deliver_due()  # connected and delivered
        relay.cut()  # the broker goes away: the held connection dies, new ones are refused
        second = finish_with(store, MqTarget("", "Queue", queue_name).url(), '{"n":2}')
        for _ in range(3):
            deliverer.deliver_due()
        [waiting] = store.callbacks.for_job(second)
        assert waiting.state == "Pending" and waiting.attempts == 3 and waiting.last_error
        relay.restore()
        assert deliverer.deliver_due() == 1
        mq.close()
        assert [body for _, body in get_messages(queue_name, 2)] == [b'{"n":1}', b'{"n":2}']
        [delivered] = store.callbacks.for_job(second)
        assert (delivered.state, delivered.attempts, delivered.last_error) == ("Delivered", 4, "")
        assert store.callbacks.for_job(first)[0].attempts == 1
    finally:
        relay.close()


def test_a_broker_restart_between_deliveries_loses_nothing(store: Store, queue_name: str) -> None:
    if store.dialect != "sqlite":
        pytest.skip("one broker restart per run is enough: the outbox is the same on both databases")
    target = MqTarget("", "Queue", queue_name).url()
    with MqPublisher(MQ_URL) as mq:
        deliverer = Deliverer(store.callbacks, mq=mq, backoff_seconds=0)
        finish_with(store, target, '{"n":1}')
        deliverer.deliver_due()
        if not restart_broker():
            pytest.skip("rabbitmqctl is not on this machine; the relay test covers an unreachable broker")
        # The publisher's connection died with the broker: the next delivery reconnects.
        second = finish_with(store, target, '{"n":2}')
        deliverer.deliver_due()
        assert store.callbacks.for_job(second)[0].state == "Delivered"
    # Both messages were persistent in a durable queue: the restart kept the first one too.
    assert [body for _, body in get_messages(queue_name, 2)] == [b'{"n":1}', b'{"n":2}']


def test_without_a_broker_an_mq_target_waits_and_says_which_flag_is_missing(store: Store) -> None:
    job_id = finish_with(store, MqTarget("", "Queue", "nowhere").url(), "{}")
    Deliverer(store.callbacks, mq=None).deliver_due()
    [record] = store.callbacks.for_job(job_id)
    assert record.state == "Pending" and "--mq-url" in record.last_error
