"""Each ``wanxiang`` client command against a live ``serve --dev``, read through ``--json``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.devkit.conftest import Cli
from tests.support.images import marker_png, size
from wanxiang.cli_client.http import resolve_profile
from wanxiang.testing import REGION, RunningServer


def pic_job(bucket: str, key: str, out: str, rule: str = "imageMogr2/rotate/90") -> dict[str, Any]:
    return {"Tag": "PicProcess", "Input": {"Object": key},
            "Operation": {"PicProcess": {"ProcessRule": rule},
                          "Output": {"Region": REGION, "Bucket": bucket, "Object": out}}}


def submit(cos: Any, bucket: str, job: dict[str, Any]) -> dict[str, Any]:
    return dict(cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})["JobsDetail"][0])


def test_objects_put_ls_get_and_rm_round_trip(cli: Cli, dev_bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(marker_png(30, 20))
    code, put = cli("objects", "put", str(source), "in/photo.png", bucket=dev_bucket)
    assert code == 0 and put["Size"] == len(source.read_bytes()) and put["ETag"].startswith('"')

    code, listed = cli("objects", "ls", "in/", bucket=dev_bucket)
    assert code == 0 and [(o["Key"], o["Size"]) for o in listed["Contents"]] == [("in/photo.png", str(put["Size"]))]
    code, grouped = cli("objects", "ls", "--delimiter", "/", bucket=dev_bucket)
    assert grouped["CommonPrefixes"] == ["in/"] and grouped["Contents"] == []

    copy = tmp_path / "copy.png"
    assert cli("objects", "get", "in/photo.png", str(copy), bucket=dev_bucket)[0] == 0
    assert copy.read_bytes() == source.read_bytes()

    code, removed = cli("objects", "rm", "in/photo.png", bucket=dev_bucket)
    assert code == 0 and removed["Deleted"] is True
    assert cli("objects", "ls", bucket=dev_bucket)[1]["Contents"] == []
    assert cli("objects", "get", "in/photo.png", str(copy), bucket=dev_bucket)[0] == 3  # NoSuchKey
    assert copy.read_bytes() == source.read_bytes() and not list(tmp_path.glob("*.part"))  # left as it was


def test_objects_put_and_get_stream_a_file_of_several_megabytes(cli: Cli, dev_bucket: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(5 * 1024 * 1024 + 7))
    code, put = cli("objects", "put", str(big), "blobs/big.bin", bucket=dev_bucket)
    assert code == 0 and put["Size"] == big.stat().st_size
    back = tmp_path / "back.bin"
    assert cli("objects", "get", "blobs/big.bin", str(back), bucket=dev_bucket)[0] == 0
    assert back.read_bytes() == big.read_bytes()


def test_jobs_list_get_wait_and_resubmit(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(40, 20), Key="in/a.png")
    first = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))

    code, waited = cli("jobs", "wait", first["JobId"], bucket=dev_bucket)
    assert code == 0 and waited["State"] == "Success"
    body = cos_client.get_object(Bucket=dev_bucket, Key="out/a.png")["Body"].get_raw_stream().read()
    assert size(body) == (20, 40)

    code, again = cli("jobs", "resubmit", first["JobId"], bucket=dev_bucket)
    assert code == 0 and again["JobId"] != first["JobId"] and again["Tag"] == "PicProcess"
    assert again["Operation"]["PicProcess"]["ProcessRule"] == "imageMogr2/rotate/90"
    assert cli("jobs", "wait", again["JobId"], bucket=dev_bucket)[0] == 0

    code, listed = cli("jobs", "list", "--tag", "PicProcess", "--states", "Success", bucket=dev_bucket)
    assert code == 0 and {j["JobId"] for j in listed["JobsDetail"]} == {first["JobId"], again["JobId"]}
    code, got = cli("jobs", "get", first["JobId"], again["JobId"], bucket=dev_bucket)
    assert code == 0 and [j["State"] for j in got["JobsDetail"]] == ["Success", "Success"]
    code, missing = cli("jobs", "get", "p" + "0" * 32, bucket=dev_bucket)
    assert code == 3 and missing["NonExistJobIds"] == ["p" + "0" * 32]


def test_jobs_cancel_and_wait_exits_1_for_a_cancelled_job(
    cli: Cli, cos_client: Any, dev_bucket: str, normal_afterwards: None
) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    queue = cos_client.ci_get_media_pic_queue(Bucket=dev_bucket)["QueueList"][0]["QueueId"]
    assert cli("test-mode", "set", "manual", "--queue-id", queue)[0] == 0  # keeps it Submitted
    job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))

    code, cancelled = cli("jobs", "cancel", job["JobId"], bucket=dev_bucket)
    assert code == 0 and cancelled["State"] == "Cancel"
    assert cli("jobs", "wait", job["JobId"], bucket=dev_bucket)[0] == 1


def test_jobs_wait_times_out_with_exit_5(cli: Cli, cos_client: Any, dev_bucket: str, normal_afterwards: None) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    queue = cos_client.ci_get_media_pic_queue(Bucket=dev_bucket)["QueueList"][0]["QueueId"]
    cli("test-mode", "set", "manual", "--queue-id", queue)
    job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    code, last = cli("jobs", "wait", job["JobId"], "--timeout", "0.3", "--interval", "0.1", bucket=dev_bucket)
    assert code == 5 and last["State"] == "Submitted"


def test_queues_list_pause_and_resume(cli: Cli, dev_bucket: str) -> None:
    code, listed = cli("queues", "list", bucket=dev_bucket)
    assert code == 0 and sorted(q["Family"] for q in listed["QueueList"]) == ["ai", "asr", "media", "pic"]
    pic = next(q for q in listed["QueueList"] if q["Family"] == "pic")

    code, paused = cli("queues", "pause", pic["QueueId"], bucket=dev_bucket)
    assert code == 0 and paused["State"] == "Paused"
    code, only_pic = cli("queues", "list", "--family", "pic", bucket=dev_bucket)
    assert [q["State"] for q in only_pic["QueueList"]] == ["Paused"]
    assert cli("queues", "resume", pic["QueueId"], bucket=dev_bucket)[1]["State"] == "Active"
    assert cli("queues", "pause", "pnosuchqueue", bucket=dev_bucket)[0] == 3


def test_templates_list_and_get(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    created = cos_client.ci_create_template(Bucket=dev_bucket, Template={
        "Tag": "Animation", "Name": "gif-160", "Container": {"Format": "gif"},
        "Video": {"Codec": "gif", "Width": "160", "Fps": "10"}})["Template"]
    code, listed = cli("templates", "list", "--tag", "Animation", bucket=dev_bucket)
    assert code == 0 and [t["TemplateId"] for t in listed["TemplateList"]] == [created["TemplateId"]]
    code, got = cli("templates", "get", created["TemplateId"], bucket=dev_bucket)
    assert code == 0 and got["Name"] == "gif-160" and got["TransTpl"]["Container"]["Format"] == "gif"
    assert cli("templates", "get", "t" + "0" * 32, bucket=dev_bucket)[0] == 3


def test_batch_list_get_and_cancel(cli: Cli, cos_client: Any, dev_bucket: str, normal_afterwards: None) -> None:
    cli("test-mode", "set", "manual")  # its children stay Submitted, so the batch is still running
    for i in range(3):
        cos_client.put_object(Bucket=dev_bucket, Body=marker_png(16, 8), Key=f"in/{i}.png")
    created = cos_client.ci_create_inventory_trigger_jobs(Bucket=dev_bucket, JobBody={
        "Name": "rotate-in", "Type": "Job", "Input": {"Prefix": "in/"},
        "Operation": {"Tag": "PicProcess", "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
                      "Output": {"Region": REGION, "Bucket": dev_bucket, "Object": "out/${InputName}.${Ext}"}}},
    )["JobsDetail"][0]

    code, listed = cli("batch", "list", bucket=dev_bucket)
    assert code == 0 and [b["JobId"] for b in listed["JobsDetail"]] == [created["JobId"]]
    code, got = cli("batch", "get", created["JobId"], bucket=dev_bucket)
    assert code == 0 and got["Name"] == "rotate-in" and got["State"] in ("Submitted", "Running")
    code, cancelled = cli("batch", "cancel", created["JobId"], bucket=dev_bucket)
    assert code == 0 and cancelled["State"] == "Cancel"


def test_workflows_list_and_trigger(cli: Cli, cos_client: Any, dev_bucket: str) -> None:
    pic_queue = cos_client.ci_get_media_pic_queue(Bucket=dev_bucket)["QueueList"][0]["QueueId"]
    media_queue = cos_client.ci_get_media_queue(Bucket=dev_bucket)["QueueList"][0]["QueueId"]
    node = "PicProcess_1581665960536"
    workflow = cos_client.ci_create_workflow(Bucket=dev_bucket, Body={"MediaWorkflow": {
        "Name": "thumbs", "State": "Paused",
        "Topology": {"Dependencies": {"Start": node, node: "End"}, "Nodes": {
            "Start": {"Type": "Start", "Input": {"QueueId": media_queue, "PicProcessQueueId": pic_queue,
                                                 "ObjectPrefix": "in/"}},
            node: {"Type": "PicProcess", "Operation": {
                "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/50x"},
                "Output": {"Region": REGION, "Bucket": dev_bucket, "Object": "out/${InputName}.png"}}}}}}},
    )["MediaWorkflow"]
    code, listed = cli("workflows", "list", bucket=dev_bucket)
    assert code == 0 and [w["WorkflowId"] for w in listed["MediaWorkflowList"]] == [workflow["WorkflowId"]]

    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(200, 100), Key="old/photo.png")
    code, triggered = cli("workflows", "trigger", workflow["WorkflowId"], "old/photo.png", bucket=dev_bucket)
    assert code == 0 and triggered["InstanceId"]
    jobs = cli("jobs", "list", "--tag", "PicProcess", "--workflow-id", workflow["WorkflowId"], bucket=dev_bucket)[1]
    assert len(jobs["JobsDetail"]) == 1
    assert cli("jobs", "wait", jobs["JobsDetail"][0]["JobId"], bucket=dev_bucket)[0] == 0
    body = cos_client.get_object(Bucket=dev_bucket, Key="out/photo.png")["Body"].get_raw_stream().read()
    assert size(body) == (50, 25)


def test_presign_gives_curl_a_url(cli: Cli, cos_client: Any, dev_bucket: str,
                                  capsys: Any, wanxiang_server: RunningServer) -> None:
    from wanxiang.cli import main

    cos_client.put_object(Bucket=dev_bucket, Body=b"hello curl", Key="notes/hi.txt")
    assert main(["presign", "GET", "notes/hi.txt", "--endpoint", wanxiang_server.url, "--bucket", dev_bucket]) == 0
    url = capsys.readouterr().out.strip()
    host = f"{dev_bucket}.cos.{REGION}.myqcloud.com"
    assert httpx.get(url, headers={"Host": host}).content == b"hello curl"
    assert httpx.get(url.replace("q-signature=", "q-signature=0"), headers={"Host": host}).status_code == 403


def test_the_installed_command_exits_4_when_no_server_answers_and_3_on_bad_credentials(
    wanxiang_server: RunningServer, dev_bucket: str
) -> None:
    command = [sys.executable, "-m", "wanxiang.cli", "queues", "list", "--bucket", dev_bucket]
    down = subprocess.run([*command, "--endpoint", "http://127.0.0.1:9"], capture_output=True, text=True)
    assert down.returncode == 4 and "cannot reach" in down.stderr
    refused = subprocess.run([*command, "--endpoint", wanxiang_server.url, "--secret-key", "wrong"],
                             capture_output=True, text=True)
    assert refused.returncode == 3 and "SignatureDoesNotMatch" in refused.stderr
    fine = subprocess.run([*command, "--endpoint", wanxiang_server.url], capture_output=True, text=True)
    assert fine.returncode == 0 and "QueueId" in fine.stdout  # the table for people


def test_profile_comes_from_flags_then_env_then_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('endpoint = "http://files:1"\nbucket = "from-file-1"\nsecret_id = "AKIDfile"\n')
    env = {"WANXIANG_CONFIG": str(config), "WANXIANG_BUCKET": "from-env-1"}
    profile = resolve_profile({"secret_id": "AKIDflag"}, env)
    assert (profile.endpoint, profile.bucket, profile.secret_id) == ("http://files:1", "from-env-1", "AKIDflag")
    assert profile.region == "ap-guangzhou" and profile.secret_key.startswith("wanxiang-dev")
