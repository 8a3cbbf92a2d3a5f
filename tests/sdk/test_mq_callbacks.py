"""TDMQ callbacks through the official SDK: a job's CallBackMqConfig lands on a RabbitMQ queue, a
queue's NotifyConfig on a topic binding, and a broker restart loses nothing. Read back with pika."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import sdk_client
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.rabbit import (
    can_restart_broker,
    channel,
    delete_exchange,
    delete_queue,
    get_messages,
    start_broker,
    stop_broker,
    unique_name,
)
from tests.support.server import RunningServer
from wanxiang.wire.xml import parse_request


@pytest.fixture
def mq_cos(mq_server: RunningServer) -> Any:
    return sdk_client(mq_server)


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = unique_name("sdk")
    yield name
    delete_queue(name)


def tdmq_job(bucket: str, out: str, mode: str, name: str, fmt: str = "JSON") -> dict[str, Any]:
    return pic_job(bucket, "a.png", "imageMogr2/rotate/90", out, CallBackType="TDMQ", CallBackFormat=fmt,
                   CallBackMqConfig={"MqRegion": "gz", "MqMode": mode, "MqName": name})


def test_a_job_with_a_tdmq_callback_lands_on_a_rabbitmq_queue(mq_cos: Any, bucket: str, queue_name: str) -> None:
    mq_cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    job_id = submit(mq_cos, bucket, tdmq_job(bucket, "b.png", "Queue", queue_name))
    assert wait_for_state(getter(mq_cos, bucket), job_id)["State"] == "Success"
    [(properties, body)] = get_messages(queue_name, 1)
    payload = json.loads(body)
    assert payload["EventName"] == "TaskFinish"
    assert payload["JobsDetail"]["JobId"] == job_id and payload["JobsDetail"]["State"] == "Success"
    assert properties.content_type == "application/json" and properties.delivery_mode == 2


def test_a_queue_notify_config_of_type_tdmq_publishes_xml_to_a_topic_binding(mq_cos: Any, bucket: str) -> None:
    exchange, bound = unique_name("sdk-topic"), unique_name("sdk-bound")
    mq_cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    queue = mq_cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    try:
        with channel() as ch:
            ch.exchange_declare(exchange, exchange_type="topic", durable=True)
            ch.queue_declare(bound)
            ch.queue_bind(bound, exchange, routing_key="#")
        updated = mq_cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
            "Name": queue["Name"], "State": "Active",
            "NotifyConfig": {"Type": "TDMQ", "State": "On", "Event": "TaskFinish", "ResultFormat": "XML",
                             "MqMode": "Topic", "MqName": exchange, "MqRegion": "sh"}})
        notify = updated["Queue"][0]["NotifyConfig"]
        assert (notify["Type"], notify["MqMode"], notify["MqName"]) == ("TDMQ", "Topic", exchange)
        job_id = submit(mq_cos, bucket, pic_job(bucket, "a.png", "imageMogr2/rotate/90", "b.png"))
        wait_for_state(getter(mq_cos, bucket), job_id)
        [(properties, body)] = get_messages(bound, 1)
        assert properties.content_type.startswith("application/xml")
        assert parse_request(body, root="Response")["JobsDetail"]["JobId"] == job_id
    finally:
        mq_cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
            "Name": queue["Name"], "State": "Active", "NotifyConfig": {"State": "Off"}})
        delete_queue(bound)
        delete_exchange(exchange)


def test_jobs_that_finish_while_the_broker_is_down_are_delivered_once_it_is_back(
    mq_cos: Any, bucket: str, queue_name: str
) -> None:
    if not can_restart_broker():
        pytest.skip("rabbitmqctl is not on this machine")
    mq_cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    before = submit(mq_cos, bucket, tdmq_job(bucket, "b.png", "Queue", queue_name))
    wait_for_state(getter(mq_cos, bucket), before)
    assert len(get_messages(queue_name, 1)) == 1  # delivered, and the server holds its connection
    stop_broker()
    try:
        during = submit(mq_cos, bucket, tdmq_job(bucket, "c.png", "Queue", queue_name))
        assert wait_for_state(getter(mq_cos, bucket), during)["State"] == "Success"
    finally:
        start_broker()
    after = submit(mq_cos, bucket, tdmq_job(bucket, "d.png", "Queue", queue_name))
    wait_for_state(getter(mq_cos, bucket), after)
    received = [json.loads(body)["JobsDetail"]["JobId"] for _, body in get_messages(queue_name, 2, timeout=60)]
    assert sorted(received) == sorted([during, after])


def test_without_a_broker_a_tdmq_callback_is_refused_naming_the_flag(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    with pytest.raises(CosServiceError) as caught:
        submit(cos, bucket, tdmq_job(bucket, "b.png", "Queue", "anything"))
    assert caught.value.get_status_code() == 400 and "--mq-url" in caught.value.get_error_msg()
    queue = cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]
    with pytest.raises(CosServiceError) as caught:
        cos.ci_update_media_pic_queue(Bucket=bucket, QueueId=queue["QueueId"], Request={
            "Name": queue["Name"], "State": "Active",
            "NotifyConfig": {"Type": "TDMQ", "State": "On", "MqMode": "Queue", "MqName": "anything"}})
    assert caught.value.get_status_code() == 400 and "--mq-url" in caught.value.get_error_msg()
    assert cos.ci_list_media_pic_jobs(Bucket=bucket, Tag="PicProcess").get("JobsDetail") in (None, [])


def test_a_workflow_notify_config_of_type_tdmq_sends_task_and_workflow_finish(
    mq_cos: Any, bucket: str, queue_name: str
) -> None:
    from tests.sdk.test_workflows import media_workflow

    body = media_workflow(mq_cos, bucket, state="Active")
    start_input = body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]
    start_input["NotifyConfig"] = {"Type": "TDMQ", "State": "On", "Event": "TaskFinish,WorkflowFinish",
                                   "ResultFormat": "JSON", "MqMode": "Queue", "MqName": queue_name, "MqRegion": "bj"}
    mq_cos.ci_create_workflow(Bucket=bucket, Body=body)
    mq_cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/photo.png")
    events = sorted(json.loads(payload)["EventName"] for _, payload in get_messages(queue_name, 2, timeout=60))
    assert events == ["TaskFinish", "WorkflowFinish"]


def test_without_a_broker_a_workflow_with_a_tdmq_notify_config_is_refused(cos: Any, bucket: str) -> None:
    from tests.sdk.test_workflows import media_workflow

    body = media_workflow(cos, bucket)
    body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]["NotifyConfig"] = {
        "Type": "TDMQ", "State": "On", "Event": "WorkflowFinish", "MqMode": "Queue", "MqName": "anything"}
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_workflow(Bucket=bucket, Body=body)
    assert caught.value.get_status_code() == 400 and "--mq-url" in caught.value.get_error_msg()
