"""Where notifications go: TDMQ targets written into the outbox read back as they were set."""

from __future__ import annotations

import pytest

from wanxiang.model.errors import CIError
from wanxiang.model.notify import MqTarget, notify_target, parse_mq_config, parse_mq_target


@pytest.mark.parametrize(
    "target",
    [MqTarget("gz", "Queue", "media.done"), MqTarget("", "Topic", "a/b c?#%é"), MqTarget("ap-beijing", "Queue", "-")],
)
def test_an_mq_target_reads_back_from_its_outbox_form(target: MqTarget) -> None:
    assert parse_mq_target(target.url()) == target


def test_an_http_url_is_not_an_mq_target() -> None:
    assert parse_mq_target("https://example.com/hook") is None


def test_a_notify_config_names_its_url_or_its_mq_target() -> None:
    assert notify_target({"Type": "Url", "Url": "https://example.com/h"}) == "https://example.com/h"
    tdmq = {"Type": "TDMQ", "MqMode": "Topic", "MqName": "done", "MqRegion": "sh", "Url": "https://ignored"}
    assert parse_mq_target(notify_target(tdmq)) == MqTarget("sh", "Topic", "done")
    assert notify_target({"Type": "TDMQ"}) == ""


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"MqName": "x" * 256}, "255 bytes"),
        ({"MqName": "bad\nname"}, "control"),
        ({"MqName": "ok", "MqMode": "Direct"}, "MqMode"),
        ({"MqName": "ok", "MqRegion": "gz/../x"}, "MqRegion"),
    ],
)
def test_bad_mq_configs_name_the_field(config: dict[str, str], fragment: str) -> None:
    with pytest.raises(CIError) as caught:
        parse_mq_config(config, "CallBackMqConfig")
    assert caught.value.status == 400 and fragment in caught.value.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:5672", "amqp://", "rabbit"])
def test_a_broker_url_that_is_not_amqp_is_refused_at_start(url: str) -> None:
    from wanxiang.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["worker", "--mq-url", url])
    assert stopped.value.code == 2
