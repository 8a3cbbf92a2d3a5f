"""Callbacks may not reach private networks unless the operator allows it."""

from __future__ import annotations

import pytest

from wanxiang.callbacks.policy import is_private_literal, resolves_private
from wanxiang.model.errors import CIError
from wanxiang.services.validation import callback_settings


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/cb", "http://localhost/cb", "http://10.1.2.3/cb", "http://192.168.0.5/x",
     "http://[::1]:80/x", "http://169.254.169.254/latest/meta-data"],
)
def test_private_and_loopback_callbacks_are_refused_at_submit(url: str) -> None:
    assert is_private_literal(url)
    with pytest.raises(CIError) as caught:
        callback_settings({"CallBack": url}, allow_private=False, mq_enabled=False)
    assert caught.value.status == 400 and "--allow-private-callbacks" in caught.value.message
    assert callback_settings({"CallBack": url}, allow_private=True, mq_enabled=False)["Url"] == url


def test_a_public_callback_and_no_are_accepted() -> None:
    assert callback_settings({"CallBack": "https://callback.example.com/hook", "CallBackFormat": "JSON"}, allow_private=False, mq_enabled=False) == {
        "Url": "https://callback.example.com/hook", "Format": "JSON"}
    assert callback_settings({"CallBack": "no"}, allow_private=False, mq_enabled=False) == {"Url": "no"}


@pytest.mark.parametrize(
    ("request_tree", "fragment"),
    [
        ({"CallBack": "ftp://example.com/x"}, "http"),
        ({"CallBack": "https://example.com", "CallBackFormat": "YAML"}, "CallBackFormat"),
        ({"CallBack": "https://example.com", "CallBackType": "Pigeon"}, "CallBackType"),
        ({"CallBackType": "TDMQ", "CallBackMqConfig": {"MqMode": "Queue", "MqName": "done"}}, "--mq-url"),
        ({"CallBackType": "TDMQ"}, "CallBackMqConfig.MqName is required"),
        ({"CallBackType": "TDMQ", "CallBackMqConfig": {"MqMode": "Fanout", "MqName": "x"}}, "CallBackMqConfig.MqMode"),
        ({"CallBackType": "TDMQ", "CallBackMqConfig": {"MqName": "amq.direct"}}, "amq."),
        ({"CallBackType": "Kafka"}, "Kafka"),
    ],
)
def test_bad_callback_settings_name_the_field(request_tree: dict[str, str], fragment: str) -> None:
    with pytest.raises(CIError) as caught:
        callback_settings(request_tree, allow_private=False, mq_enabled=False)
    assert fragment in caught.value.message


def test_a_tdmq_callback_is_kept_as_its_target_when_a_broker_is_configured() -> None:
    request = {"CallBackType": "TDMQ", "CallBackFormat": "JSON",
               "CallBackMqConfig": {"MqRegion": "gz", "MqMode": "Topic", "MqName": "media.done"}}
    assert callback_settings(request, allow_private=False, mq_enabled=True) == {
        "Type": "TDMQ", "Format": "JSON", "MqMode": "Topic", "MqName": "media.done", "MqRegion": "gz"}


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery() -> None:
    assert resolves_private("http://localhost:1/x")


@pytest.mark.parametrize(
    "url",
    ["http://[::ffff:127.0.0.1]:9/x", "http://2130706433:9/x", "http://0.0.0.0:9/x", "http://100.64.0.1/x",
     "http://0x7f000001/x"],
)
def test_disguised_loopback_and_private_addresses_are_refused_at_delivery(url: str) -> None:
    assert resolves_private(url)


def test_a_public_name_is_called_at_the_address_that_was_checked() -> None:
    from wanxiang.callbacks.policy import pinned_request

    url, headers, extensions = pinned_request("https://hooks.example.com:8443/cb?x=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/cb?x=1"
    assert headers == {"Host": "hooks.example.com:8443"} and extensions == {"sni_hostname": "hooks.example.com"}
    url, headers, _ = pinned_request("http://hooks.example.com/cb", "2606:2800:220:1::1")
    assert url == "http://[2606:2800:220:1::1]/cb" and headers == {"Host": "hooks.example.com"}
