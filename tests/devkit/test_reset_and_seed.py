"""``POST /-/reset`` empties everything in one call; ``--seed DIR`` and ``wanxiang seed DIR`` load objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.devkit.conftest import Cli
from tests.devkit.test_cli_commands import pic_job, submit
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.raw import signed
from tests.support.server import RunningServer
from wanxiang.cli import main
from wanxiang.cli_client.http import ApiError, Client, Profile
from wanxiang.testing import cos_client_for, start_server


def stored_files(data_dir: Path) -> list[str]:
    """Every object or metadata file the local storage holds (its lock file aside)."""
    root = data_dir / "objects"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != ".lock")


def test_reset_leaves_no_bucket_job_queue_template_workflow_style_or_object(
    cli: Cli, cos_client: Any, dev_bucket: str, wanxiang_server: RunningServer
) -> None:
    cos_client.put_object(Bucket=dev_bucket, Body=marker_png(), Key="in/a.png")
    cos_client.put_object(Bucket=dev_bucket.replace("d", "f", 1), Body=b"x", Key="deep/er/b.txt")
    job = submit(cos_client, dev_bucket, pic_job(dev_bucket, "in/a.png", "out/a.png"))
    wait_for_state(lambda i: cos_client.ci_get_media_pic_jobs(Bucket=dev_bucket, JobIDs=i), job["JobId"])
    cos_client.ci_create_template(Bucket=dev_bucket, Template={
        "Tag": "Animation", "Name": "gif", "Container": {"Format": "gif"}, "Video": {"Codec": "gif"}})
    cos_client.ci_put_image_style(Bucket=dev_bucket, Request={"StyleName": "thumb", "StyleBody": "imageMogr2/thumbnail/10x"})
    pic_queue = cos_client.ci_get_media_pic_queue(Bucket=dev_bucket)["QueueList"][0]["QueueId"]
    cli("queues", "pause", pic_queue, bucket=dev_bucket)
    cli("test-mode", "set", "manual")
    assert "thumb" in str(cos_client.ci_get_image_style(Bucket=dev_bucket, Request={}))
    assert stored_files(wanxiang_server.data_dir)

    code, counts = cli("reset")
    assert code == 0 and int(counts["Buckets"]) >= 2 and int(counts["Objects"]) >= 3

    assert stored_files(wanxiang_server.data_dir) == []
    assert [p.name for p in (wanxiang_server.data_dir / "objects").iterdir() if not p.name.startswith(".")] == []
    assert cli("test-mode", "show")[1]["TestMode"] == []
    assert cli("jobs", "list", "--tag", "PicProcess", bucket=dev_bucket)[1]["JobsDetail"] == []
    assert cli("jobs", "get", job["JobId"], bucket=dev_bucket)[0] == 3
    assert cli("templates", "list", bucket=dev_bucket)[1]["TemplateList"] == []
    assert cli("workflows", "list", bucket=dev_bucket)[1]["MediaWorkflowList"] == []
    assert cli("objects", "ls", bucket=dev_bucket)[1]["Contents"] == []
    assert "thumb" not in str(cos_client.ci_get_image_style(Bucket=dev_bucket, Request={}))
    # The bucket, named again, starts over: its default queues made afresh.
    queues = cli("queues", "list", "--family", "pic", bucket=dev_bucket)[1]["QueueList"]
    assert [q["State"] for q in queues] == ["Active"]  # was Paused before the reset


def test_reset_needs_a_signature(wanxiang_server: RunningServer) -> None:
    answer = httpx.post(wanxiang_server.url + "/-/reset")
    assert answer.status_code == 403 and b"<Code>AccessDenied</Code>" in answer.content


def seed_tree(root: Path) -> dict[tuple[str, str], bytes]:
    files = {
        ("photos-1250000000", "in/deer.png"): marker_png(12, 6),
        ("photos-1250000000", "in/nested/notes.txt"): "深 notes".encode(),
        ("docs-1250000000", "readme.md"): b"# hello",
        ("docs-1250000000", "data.json"): b"{}",
    }
    for (bucket, key), data in files.items():
        path = root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "docs-1250000000" / ".DS_Store").write_bytes(b"junk")
    return files


def read_all(cos: Any, files: dict[tuple[str, str], bytes]) -> dict[tuple[str, str], tuple[bytes, str, str]]:
    found = {}
    for bucket, key in files:
        response = cos.get_object(Bucket=bucket, Key=key)
        found[(bucket, key)] = (response["Body"].get_raw_stream().read(), response["Content-Type"],
                                response["Last-Modified"])
    return found


def test_serve_seed_loads_a_folder_tree_idempotently(tmp_path: Path) -> None:
    files = seed_tree(tmp_path / "seed")
    server = start_server(tmp_path / "data", "--workers", "1", "--seed", str(tmp_path / "seed"))
    try:
        first = read_all(cos_client_for(server), files)
        assert "Seeded 4 object(s)" in server.log()
    finally:
        server.stop()
    assert {k: v[0] for k, v in first.items()} == files
    assert first[("photos-1250000000", "in/deer.png")][1] == "image/png"
    assert first[("docs-1250000000", "readme.md")][1] == "text/markdown"
    assert first[("docs-1250000000", "data.json")][1] == "application/json"
    assert first[("photos-1250000000", "in/nested/notes.txt")][1].startswith("text/plain")

    again = start_server(tmp_path / "data", "--workers", "1", "--seed", str(tmp_path / "seed"))
    try:
        cos = cos_client_for(again)
        assert read_all(cos, files) == first  # same bytes, types and times: nothing rewritten
        listed = cos.list_objects(Bucket="docs-1250000000")["Contents"]
        assert sorted(o["Key"] for o in listed) == ["data.json", "readme.md"]  # hidden files skipped
    finally:
        again.stop()


def test_seed_command_uploads_the_tree_to_a_running_server(
    tmp_path: Path, wanxiang_server: RunningServer, cos_client: Any, capsys: Any
) -> None:
    files = seed_tree(tmp_path / "seed")
    argv = ["seed", str(tmp_path / "seed"), "--endpoint", wanxiang_server.url, "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)["Objects"]
    assert sorted((o["Bucket"], o["Key"]) for o in first) == sorted(files)
    before = read_all(cos_client, files)
    assert {k: v[0] for k, v in before.items()} == files

    assert main(argv) == 0  # again: nothing rewritten
    assert {o["State"] for o in json.loads(capsys.readouterr().out)["Objects"]} == {"unchanged"}
    assert read_all(cos_client, files) == before


def test_a_strict_server_refuses_the_dev_credentials_and_has_no_dev_endpoints(server: RunningServer, bucket: str) -> None:
    """The project's own ``server`` fixture runs strict (today's behaviour)."""
    with pytest.raises(ApiError) as refused:
        Client(Profile(endpoint=server.url, bucket=bucket)).xml("GET", "/picqueue")
    assert refused.value.status == 403
    # No dev endpoint there: /-/test-mode is just an object key like any other.
    body = b"<Request><Mode>manual</Mode></Request>"
    assert signed(server, "PUT", "/-/test-mode", bucket, body=body).status_code == 200
    assert signed(server, "GET", "/-/test-mode", bucket).content == body
    assert "Dev mode" not in server.log()
