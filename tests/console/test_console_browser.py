"""The console in a real headless Chromium against a live ``wanxiang serve``, with jobs submitted
through the official SDK: what a user sees and does. Each page is saved as a screenshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import chromium_path
from tests.sdk.test_batches import rotate_batch, wait_batch
from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.sdk.test_workflows import NODE, media_workflow, wait_runs
from tests.support.images import marker_png
from tests.support.jobs import wait_for_state
from tests.support.server import SECRET_ID, SECRET_KEY, RunningServer
from wanxiang.model.job import QueueFamily
from wanxiang.store.queues import default_queue_id

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (make system-deps)")
WAIT_MS = 30_000


@pytest.fixture
def page(chromium: Any, server: RunningServer) -> Iterator[Any]:
    """A fresh browser context, signed in through the sign-in form."""
    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.goto(server.url + "/-/console/")
    assert "/-/console/login" in tab.url
    tab.fill("input[name=secret_id]", SECRET_ID)
    tab.fill("input[name=secret_key]", SECRET_KEY)
    tab.click("button[type=submit]")
    tab.wait_for_selector("h1:has-text('Overview')")
    yield tab
    context.close()


def shot(tab: Any, screenshots: Path, name: str) -> None:
    tab.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def console_url(server: RunningServer, bucket: str, rest: str) -> str:
    return f"{server.url}/-/console/b/{bucket}/{rest}"


def test_a_job_submitted_with_the_sdk_appears_live_and_its_detail_shows_the_output(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="in/marker.png")
    page.goto(console_url(server, bucket, "jobs"))
    page.wait_for_selector("#live-status.on")
    page.evaluate("window.stillTheSamePage = true")
    job_id = submit(cos, bucket, pic_job(bucket, "in/marker.png", "imageMogr2/rotate/90", "out/rotated.png"))
    page.wait_for_selector(f'tr[data-job="{job_id}"]')
    page.wait_for_selector(f'tr[data-job="{job_id}"] .state.Success')
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, never reloaded
    shot(page, screenshots, "jobs")

    page.click(f"a:has-text('{job_id}')")
    page.wait_for_selector("h2:has-text('Preview')")
    output = page.locator("img[alt='Output out/rotated.png']")
    output.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=output.element_handle())
    assert output.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [100, 200]
    dims = page.locator(".preview .dims").all_inner_texts()
    assert dims == ["200×100", "100×200"]
    assert "in/marker.png" in page.inner_text("dl.kv")
    assert "imageMogr2/rotate/90" in page.inner_text("pre")
    shot(page, screenshots, "job-detail")


def test_a_paused_queue_holds_a_new_job_which_is_then_canceled(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    queue_id = default_queue_id(bucket, QueueFamily.PIC)
    page.goto(console_url(server, bucket, "queues"))
    page.click(f'tr[data-queue="{queue_id}"] button:has-text("Pause")')
    page.wait_for_selector(f'tr[data-queue="{queue_id}"] .state.Paused')
    shot(page, screenshots, "queues")
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="held.png")
    job_id = submit(cos, bucket, pic_job(bucket, "held.png", "imageMogr2/rotate/90", "held-out.png"))

    page.goto(console_url(server, bucket, "jobs"))
    row = f'tr[data-job="{job_id}"]'
    page.wait_for_selector(f"{row} .state.Submitted")
    page.check(f"{row} input[name=job]")
    page.click("button:has-text('Cancel selected')")
    page.wait_for_selector(".flash:has-text('Canceled 1 job(s)')")
    page.wait_for_selector(f"{row} .state.Cancel")
    detail = getter(cos, bucket)(job_id)["JobsDetail"][0]
    assert detail["State"] == "Cancel"

    page.goto(console_url(server, bucket, "queues"))
    page.click(f'tr[data-queue="{queue_id}"] button:has-text("Resume")')
    page.wait_for_selector(f'tr[data-queue="{queue_id}"] .state.Active')


def test_a_failed_job_is_resubmitted_as_a_new_job_linked_to_it(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    failed_id = submit(cos, bucket, pic_job(bucket, "late.png", "imageMogr2/rotate/90", "late-out.png"))
    assert wait_for_state(getter(cos, bucket), failed_id)["State"] == "Failed"
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="late.png")  # what was missing is there now

    page.goto(console_url(server, bucket, "jobs?states=Failed"))
    page.check(f'tr[data-job="{failed_id}"] input[name=job]')
    page.click("button:has-text('Resubmit selected')")
    flash = page.wait_for_selector(".flash:has-text('Resubmitted 1 job(s) as')").inner_text()
    new_id = flash.split(" as ", 1)[1].rstrip(".")
    assert new_id != failed_id
    assert wait_for_state(getter(cos, bucket), new_id)["State"] == "Success"

    page.goto(console_url(server, bucket, f"jobs/{new_id}"))
    page.wait_for_selector(f"dd a:has-text('{failed_id}')")
    assert "Resubmitted from" in page.inner_text("dl.kv")
    page.click(f"dd a:has-text('{failed_id}')")
    page.wait_for_selector(".error")
    assert "Failed" in page.inner_text("h1")
    # The failed job wrote nothing: the object now at its Output key is the new job's, not shown as its.
    assert page.locator(".preview b").all_inner_texts() == ["Input"]
    shot(page, screenshots, "job-failed")


def test_objects_are_browsed_by_prefix_previewed_and_uploaded(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path, tmp_path: Path
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="album/a.png", ContentType="image/png")
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="album/sub/b.png", ContentType="image/png")
    cos.put_object(Bucket=bucket, Body=b"hello", Key="top.txt", ContentType="text/plain")
    page.goto(console_url(server, bucket, "objects"))
    assert page.locator("tr.folder a").all_inner_texts() == ["album/"]
    assert "top.txt" in page.inner_text("table")
    page.click("tr.folder a:has-text('album/')")
    page.wait_for_selector("tr.object a:has-text('a.png')")
    assert "sub/" in page.inner_text("tr.folder") and "top.txt" not in page.inner_text("table")
    upload = tmp_path / "c.png"
    upload.write_bytes(marker_png(64, 32))
    page.set_input_files("input[name=file]", str(upload))
    page.click("button:has-text('Upload')")
    page.wait_for_selector(".flash:has-text('Uploaded album/c.png')")
    head = cos.head_object(Bucket=bucket, Key="album/c.png")
    assert int(head["Content-Length"]) == len(marker_png(64, 32))
    shot(page, screenshots, "objects")

    page.click("tr.object a:has-text('a.png')")
    image = page.locator(".preview img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [200, 100]
    assert "200×100" in page.inner_text(".preview .meta")


def test_a_rule_tried_in_the_playground_shows_its_result_and_is_saved_as_a_style(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(400, 200), Key="photo.png", ContentType="image/png")
    page.goto(console_url(server, bucket, "playground"))
    page.fill("input[name=key]", "photo.png")
    page.fill("input[name=rule]", "imageMogr2/thumbnail/100x/format/webp")
    page.click("button:has-text('Try it')")
    page.wait_for_selector("#result")
    assert page.inner_text("#result .dims") == "100×50"
    assert page.inner_text("#result .fmt") == "webp"
    result = page.locator("#result img")
    assert result.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [100, 50]
    assert "400×200" in page.inner_text("#original .meta")
    shot(page, screenshots, "playground")

    page.fill("input[name=name]", "thumb100")
    page.click("button:has-text('Save as image style')")
    page.wait_for_selector(".flash:has-text('Saved style thumb100')")
    page.goto(console_url(server, bucket, "styles"))
    assert "imageMogr2/thumbnail/100x/format/webp" in page.inner_text("table")
    shot(page, screenshots, "styles")

    page.goto(console_url(server, bucket, "playground?key=photo.png&rule=imageMogr2/nonsense/1"))
    assert "InvalidArgument" in page.inner_text("#rule-error") or "nonsense" in page.inner_text("#rule-error")


def test_the_overview_counts_jobs_and_draws_the_hour(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="o.png")
    ok = submit(cos, bucket, pic_job(bucket, "o.png", "imageMogr2/rotate/90", "o-out.png"))
    bad = submit(cos, bucket, pic_job(bucket, "missing.png", "imageMogr2/rotate/90", "x.png"))
    for job_id in (ok, bad):
        wait_for_state(getter(cos, bucket), job_id)
    page.goto(server.url + "/-/console/")
    row = page.locator("tr", has=page.locator(f"a:has-text('{bucket}')")).filter(has_text="PicProcess")
    cells = row.first.locator("td").all_inner_texts()
    assert cells[5:8] == ["1", "1", "0"]  # Success, Failed, Cancel
    assert cells[8] == "50%"
    chart = page.locator(".card", has=page.locator(f"a:has-text('{bucket}')")).locator("svg.chart")
    assert chart.count() == 1
    assert "1 succeeded, 1 failed" in page.locator(".card", has_text=bucket).first.inner_text()
    shot(page, screenshots, "overview")


def test_templates_are_created_from_the_form(page: Any, server: RunningServer, bucket: str, screenshots: Path) -> None:
    page.goto(console_url(server, bucket, "templates"))
    page.select_option("select[name=tag]", "PicProcess")
    page.fill("input[name=name]", "half")
    page.fill("input[name=rule]", "imageMogr2/thumbnail/!50p")
    page.click("button:has-text('Create template')")
    page.wait_for_selector(".flash:has-text('Created template half')")
    assert "imageMogr2/thumbnail/!50p" in page.inner_text("table")
    shot(page, screenshots, "templates")


def test_a_workflow_is_drawn_and_its_runs_and_a_batch_job_show_their_jobs(
    page: Any, server: RunningServer, cos: Any, bucket: str, screenshots: Path
) -> None:
    body = media_workflow(cos, bucket, state="Active")
    workflow_id = cos.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="in/cat.png")
    run = wait_runs(cos, bucket, workflow_id, 1)[0]
    page.goto(console_url(server, bucket, "workflows"))
    page.click(f"a:has-text('{workflow_id}')")
    graph = page.locator("svg.graph")
    assert graph.locator("text.name").all_text_contents() == ["Start", NODE, "End"]
    page.click(f"a:has-text('{run['RunId']}')")
    page.wait_for_selector("svg.graph .node.success")
    assert "in/cat.png" in page.inner_text("main")
    shot(page, screenshots, "execution")
    page.click("td a[href*='/jobs/']")
    page.wait_for_selector("h2:has-text('Preview')")
    assert page.inner_text("dl.kv").count(workflow_id) == 1

    batch = cos.ci_create_inventory_trigger_jobs(Bucket=bucket, JobBody=rotate_batch(bucket))["JobsDetail"][0]
    wait_batch(cos, bucket, batch["JobId"])
    page.goto(console_url(server, bucket, "batches"))
    row = page.locator("tr", has=page.locator(f"a:has-text('{batch['JobId']}')"))
    cells = row.locator("td").all_inner_texts()
    assert cells[3] == "Success" and cells[6] == "1" and cells[7] == "0"  # in/cat.png: one object, one job
    shot(page, screenshots, "batches")
