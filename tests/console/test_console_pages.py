"""Console pages over HTTP, each action checked in the store it went through."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import BUCKET, ConsoleApp
from tests.support.images import marker_png
from wanxiang.config import load_credentials, load_read_only_ids
from wanxiang.model.job import QueueFamily
from wanxiang.services.context import BucketContext
from wanxiang.store.queues import default_queue_id
from wanxiang.wire.submit import parse_submit_job

CTX = BucketContext(BUCKET, "ap-guangzhou")
PIC_QUEUE = default_queue_id(BUCKET, QueueFamily.PIC)


def rotate_workflow(name: str) -> dict[str, Any]:
    node = {"Type": "PicProcess", "Operation": {
        "PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
        "Output": {"Region": "ap-guangzhou", "Bucket": BUCKET, "Object": "out/${InputName}.${Ext}"}}}
    return {"MediaWorkflow": {"Name": name, "State": "Active", "Topology": {
        "Dependencies": {"Start": "PicProcess_1", "PicProcess_1": "End"},
        "Nodes": {"Start": {"Type": "Start", "Input": {
            "QueueId": default_queue_id(BUCKET, QueueFamily.MEDIA), "PicProcessQueueId": PIC_QUEUE,
            "ObjectPrefix": "in/"}}, "PicProcess_1": node}}}}


def test_an_upload_from_the_console_starts_the_workflow_watching_its_prefix(console: ConsoleApp) -> None:
    console.sign_in()
    console.store.queues.ensure_bucket(BUCKET, "ap-guangzhou", console.deps.jobs.clock())
    workflow = console.deps.workflows.create(CTX, rotate_workflow("rotate-uploads"))
    token = console.csrf()
    uploaded = console.client.post(f"/-/console/b/{BUCKET}/objects", data={"csrf": token, "prefix": "in/"},
                                   files={"file": ("cat.png", marker_png(), "image/png")})
    assert "Uploaded in/cat.png" in uploaded.text
    page = console.client.get(f"/-/console/b/{BUCKET}/workflows/{workflow.workflow_id}").text
    assert '<svg class="graph"' in page and ">PicProcess_1<" in page and ">End<" in page
    run_id = re.search(r"/executions/([^\"]+)\"", page)
    assert run_id, page
    execution = console.client.get(f"/-/console/b/{BUCKET}/executions/{run_id.group(1)}").text
    assert "in/cat.png" in execution
    job_id = re.search(r"/jobs/([a-z0-9]+)\"", execution)
    assert job_id is not None
    assert console.deps.jobs.get(CTX, [job_id.group(1)])[0][0].workflow_id == workflow.workflow_id
    listing = console.client.get(f"/-/console/b/{BUCKET}/workflows").text
    assert "rotate-uploads" in listing and "in/" in listing


def test_a_batch_job_shows_its_progress_and_is_canceled(console: ConsoleApp) -> None:
    console.sign_in()
    console.store.queues.ensure_bucket(BUCKET, "ap-guangzhou", console.deps.jobs.clock())
    batch = console.deps.batches.create(CTX, {"Name": "rotate-all", "Type": "Job", "Input": {"Prefix": "in/"},
                                              "Operation": {"Tag": "PicProcess",
                                                            "JobParam": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
                                                            "Output": {"Region": "ap-guangzhou", "Bucket": BUCKET,
                                                                       "Object": "out/${InputName}.${Ext}"}}})
    page = console.client.get(f"/-/console/b/{BUCKET}/batches").text
    assert batch.job_id in page and "rotate-all" in page and "walking" in page
    token = console.csrf()
    console.client.post(f"/-/console/b/{BUCKET}/batches/{batch.job_id}/cancel", data={"csrf": token})
    stored = console.deps.batches.get(CTX, batch.job_id)
    assert stored is not None and stored.state.value == "Cancel"


def test_a_queue_notify_config_is_set_from_its_form(console: ConsoleApp) -> None:
    console.sign_in()
    token = console.csrf()
    response = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}", data={
        "csrf": token, "notify": "1", "notify_state": "On", "notify_url": "https://hooks.example.com/ci",
        "notify_format": "JSON"})
    assert response.status_code == 200
    queue = console.store.queues.get(PIC_QUEUE)
    assert queue is not None and queue.notify_config["Url"] == "https://hooks.example.com/ci"
    assert queue.notify_config["ResultFormat"] == "JSON" and queue.notify_config["State"] == "On"
    refused = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}", data={
        "csrf": token, "notify": "1", "notify_state": "On", "notify_url": "ftp://nope"})
    assert refused.status_code == 400 and "NotifyConfig.Url" in refused.text


def test_templates_of_every_tag_are_created_from_the_form(console: ConsoleApp) -> None:
    console.sign_in()
    token = console.csrf()
    animation = console.client.post(f"/-/console/b/{BUCKET}/templates", data={
        "csrf": token, "tag": "Animation", "name": "gif-small",
        "params": "<Container><Format>gif</Format></Container><Video><Codec>gif</Codec><Width>160</Width></Video>"})
    assert "Created template gif-small" in animation.text
    found = console.deps.templates.describe(CTX, {})
    assert found.total == 1 and found.items[0].params["Container"] == {"Format": "gif"}
    assert found.items[0].params["Video"]["Width"] == "160"
    bad = console.client.post(f"/-/console/b/{BUCKET}/templates", data={
        "csrf": token, "tag": "PicProcess", "name": "x", "params": "<unclosed>"})
    assert bad.status_code == 400 and "Traceback" not in bad.text


def test_a_job_id_search_opens_the_job_or_says_it_is_not_there(console: ConsoleApp) -> None:
    console.sign_in()
    job = console.deps.jobs.submit(CTX, parse_submit_job({"Tag": "WordsGeneralize", "Input": {"Object": "t.txt"}, "Operation": {}}))[0]
    found = console.client.get(f"/-/console/b/{BUCKET}/jobs", params={"jobId": job.job_id})
    assert found.url.path.endswith(f"/jobs/{job.job_id}") and "WordsGeneralize" in found.text
    missing = console.client.get(f"/-/console/b/{BUCKET}/jobs", params={"jobId": "a0000"})
    assert "No job a0000" in missing.text
    bad = console.client.get(f"/-/console/b/{BUCKET}/jobs", params={"startCreationTime": "yesterday"})
    assert bad.status_code == 400 and "startCreationTime" in bad.text


def test_a_keys_file_line_with_readonly_is_a_read_only_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# id key [readonly]\nAKIDadmin adminkey\nAKIDviewer viewerkey readonly\n")
    monkeypatch.setenv("WANXIANG_KEYS_FILE", str(keys))
    for name in ("WANXIANG_SECRET_ID", "WANXIANG_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    pairs, generated = load_credentials(tmp_path)
    assert pairs == {"AKIDadmin": "adminkey", "AKIDviewer": "viewerkey"} and generated is None
    assert load_read_only_ids(tmp_path) == frozenset({"AKIDviewer"})
    assert os.environ["WANXIANG_KEYS_FILE"] == str(keys)


def test_an_ai_jobs_words_show_on_its_detail_page(console: ConsoleApp) -> None:
    from wanxiang.worker.loop import Worker
    from wanxiang.worker.wake import PollWaiter

    console.sign_in()
    console.deps.storage.create_bucket(BUCKET)
    console.deps.storage.put(BUCKET, "news.txt", "张三在北京的腾讯公司工作".encode(), content_type="text/plain")
    job = console.deps.jobs.submit(CTX, parse_submit_job({"Tag": "WordsGeneralize", "Input": {"Object": "news.txt"}, "Operation": {}}))[0]
    assert Worker(console.store, console.deps.storage, PollWaiter(), lease_seconds=30).run_once()
    page = console.client.get(f"/-/console/b/{BUCKET}/jobs/{job.job_id}").text
    words = page[page.index('id="words"'):]
    assert "北京" in words and "/ns" in words and "腾讯" in words
    assert "张三在北京的腾讯公司工作" in page  # the input, previewed as text


def test_an_object_is_deleted_from_its_folder_and_downloads_as_stored(console: ConsoleApp) -> None:
    console.sign_in()
    console.deps.storage.create_bucket(BUCKET)
    console.deps.storage.put(BUCKET, "docs/report.pdf", b"%PDF-1.4 not really", content_type="application/pdf")
    download = console.client.get(f"/-/console/b/{BUCKET}/raw", params={"key": "docs/report.pdf", "download": "1"})
    assert download.content == b"%PDF-1.4 not really"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''report.pdf"
    token = console.csrf()
    gone = console.client.post(f"/-/console/b/{BUCKET}/objects",
                               data={"csrf": token, "op": "delete", "key": "docs/report.pdf", "prefix": "docs/"})
    assert "Deleted docs/report.pdf." in gone.text and gone.url.params["prefix"] == "docs/"
    assert console.deps.storage.head(BUCKET, "docs/report.pdf") is None
