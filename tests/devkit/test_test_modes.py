"""Test modes, set with ``wanxiang test-mode`` and observed through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.devkit.conftest import Cli
from tests.devkit.test_cli_commands import pic_job, submit
from tests.support.images import marker_png, size
from tests.support.jobs import wait_for_state

pytestmark = pytest.mark.usefixtures("normal_afterwards")


def get(cos: Any, bucket: str, job_id: str) -> dict[str, Any]:
    return dict(cos.ci_get_media_pic_jobs(Bucket=bucket, JobIDs=job_id)["JobsDetail"][0])


def pic_queue(cos: Any, bucket: str) -> str:
    return str(cos.ci_get_media_pic_queue(Bucket=bucket)["QueueList"][0]["QueueId"])


def test_manual_mode_holds_jobs_submitted_until_advanced_through_running(
    cli: Cli, cos_client: Any, dev_bucket: str
) -> None:
    other = dev_bucket.replace("d", "e", 1)
    for bucket in (dev_bucket, other):
        cos_client.put_object(Bucket=bucket, Body=marker_png(40, 20), Key="in/a.png")
    assert cli("test-mode", "set", "manual", "--queue-id", pic_queue(cos_client, dev_bucket))[0] == 0
    held = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    free = submit(cos_client, other, pic_job(other, "in/a.png", "out/a.png"))

    # The later job of a queue in normal mode ran to the end: the held one was passed over, not missed.
    assert wait_for_state(lambda i: cos_client.ci_get_media_pic_jobs(Bucket=other, JobIDs=i), free["JobId"])["State"] == "Success"
    assert get(cos_client, dev_bucket, held["JobId"])["State"] == "Submitted"

    code, advanced = cli("jobs", "advance", held["JobId"])
    assert code == 0 and advanced["State"] == "Running"
    running = get(cos_client, dev_bucket, held["JobId"])
    assert running["State"] == "Running" and running["StartTime"] != "-"
    with pytest.raises(CosServiceError):  # nothing written yet
        cos_client.head_object(Bucket=dev_bucket, Key="out/a.png")

    assert cli("jobs", "advance", held["JobId"])[0] == 0
    done = wait_for_state(lambda i: cos_client.ci_get_media_pic_jobs(Bucket=dev_bucket, JobIDs=i), held["JobId"])
    assert done["State"] == "Success" and done["StartTime"] == running["StartTime"]
    body = cos_client.get_object(Bucket=dev_bucket, Key="out/a.png")["Body"].get_raw_stream().read()
    assert size(body) == (20, 40)
    assert cli("jobs", "advance", held["JobId"])[0] == 3  # a finished job cannot be advanced


def test_global_manual_mode_and_advance_finish(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    cli("test-mode", "set", "manual")
    job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    assert get(cos_client, dev_bucket, job["JobId"])["State"] == "Submitted"
    assert cli("jobs", "advance", job["JobId"], "--finish")[0] == 0
    assert wait_for_state(lambda i: cos_client.ci_get_media_pic_jobs(Bucket=dev_bucket, JobIDs=i),
                          job["JobId"])["State"] == "Success"


def test_fail_next_fails_exactly_n_jobs_with_the_code_and_message(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    queue = pic_queue(cos_client, dev_bucket)
    code, mode = cli("test-mode", "set", "fail-next", "2", "InternalError", "disk", "on", "fire", "--queue-id", queue)
    assert code == 0 and mode["Count"] == "2"
    states = []
    for i in range(3):
        job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", f"out/{i}.png"))
        states.append(wait_for_state(lambda j: cos_client.ci_get_media_pic_jobs(Bucket=dev_bucket, JobIDs=j),
                                     job["JobId"]))
    assert [(s["State"], s["Code"], s["Message"]) for s in states[:2]] == [("Failed", "InternalError", "disk on fire")] * 2
    assert states[2]["State"] == "Success"
    assert cli("jobs", "wait", states[0]["JobId"], bucket=dev_bucket)[0] == 1  # scripts see the failure
    assert cli("test-mode", "show")[1]["TestMode"][0]["Count"] == "0"


def test_fail_next_for_one_tag_leaves_other_tags_alone(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    cli("test-mode", "set", "fail-next", "1", "Boom", "--tag", "Animation")
    job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    assert wait_for_state(lambda i: cos_client.ci_get_media_pic_jobs(Bucket=dev_bucket, JobIDs=i),
                          job["JobId"])["State"] == "Success"


def test_instant_mode_answers_the_submit_once_the_job_has_ended(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(40, 20), Key="in/a.png")
    cli("test-mode", "set", "instant")
    detail = submit_any(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    assert detail["State"] == "Success" and detail["EndTime"] != "-"
    body = cos_client.get_object(Bucket=dev_bucket, Key="out/a.png")["Body"].get_raw_stream().read()
    assert size(body) == (20, 40)


def submit_any(cos: Any, bucket: str, job: dict[str, Any]) -> dict[str, Any]:
    return dict(cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})["JobsDetail"][0])


def test_bad_test_modes_are_refused_with_a_ci_error(cli: Cli) -> None:
    assert cli("test-mode", "set", "fail-next", "x", "Code")[0] == 2
    assert cli("test-mode", "set", "manual", "--queue-id", "pnosuchqueue")[0] == 3
    assert cli("test-mode", "show")[1]["TestMode"] == []
