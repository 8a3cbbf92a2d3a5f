"""The console's security model over HTTP: sessions, CSRF, read-only keys, escaping, raw objects."""

from __future__ import annotations

import time

import pytest

from tests.console.conftest import ADMIN, BUCKET, VIEWER, ConsoleApp
from tests.support.images import marker_png
from wanxiang.console.session import COOKIE, SessionKeys
from wanxiang.model.job import QueueFamily
from wanxiang.model.queue import QueueState
from wanxiang.services.context import BucketContext
from wanxiang.store.queues import default_queue_id
from wanxiang.wire.submit import parse_submit_job

CTX = BucketContext(BUCKET, "ap-guangzhou")
PIC_QUEUE = default_queue_id(BUCKET, QueueFamily.PIC)
PAGES = ["/", "/b/{b}/jobs", "/b/{b}/jobs/rows", "/b/{b}/jobs/events", "/b/{b}/jobs/c123", "/b/{b}/queues",
         "/b/{b}/templates", "/b/{b}/styles", "/b/{b}/batches", "/b/{b}/workflows", "/b/{b}/objects",
         "/b/{b}/object?key=a.png", "/b/{b}/raw?key=a.png", "/b/{b}/playground"]
ACTIONS = ["/logout", "/b/{b}/jobs/bulk", f"/b/{{b}}/queues/picqueue/{PIC_QUEUE}", "/b/{b}/templates",
           "/b/{b}/styles", "/b/{b}/batches/b123/cancel", "/b/{b}/objects", "/b/{b}/playground"]


def pause_queue(console: ConsoleApp, **extra: str) -> int:
    data = {"state": "Paused", **extra}
    response = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}", data=data,
                                   follow_redirects=False)
    return int(response.status_code)


def pic_queue_state(console: ConsoleApp) -> QueueState:
    queue = console.store.queues.get(PIC_QUEUE)
    assert queue is not None
    return queue.state


def test_no_page_or_action_without_a_session(console: ConsoleApp) -> None:
    console.store.queues.ensure_bucket(BUCKET, "ap-guangzhou", console.deps.jobs.clock())
    for page in PAGES:
        response = console.client.get("/-/console" + page.format(b=BUCKET), follow_redirects=False)
        assert response.status_code in (303, 401), page
        if response.status_code == 303:
            assert response.headers["location"].startswith("/-/console/login?next=")
    for action in ACTIONS:
        response = console.client.post("/-/console" + action.format(b=BUCKET), data={"state": "Paused"},
                                       follow_redirects=False)
        assert response.status_code == 401, action
    assert pic_queue_state(console) == QueueState.ACTIVE


def test_sign_in_takes_a_known_pair_and_sets_a_strict_http_only_cookie(console: ConsoleApp) -> None:
    wrong = console.client.post("/-/console/login", data={"secret_id": ADMIN[0], "secret_key": "nope"},
                                follow_redirects=False)
    assert wrong.status_code == 401 and "not one this server knows" in wrong.text
    assert COOKIE not in wrong.headers.get("set-cookie", "")
    right = console.client.post("/-/console/login?next=/-/console/b/x-1/jobs",
                                data={"secret_id": ADMIN[0], "secret_key": ADMIN[1]}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/-/console/b/x-1/jobs"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/-/console" in cookie and "Max-Age=" in cookie
    assert console.client.get("/-/console/").status_code == 200


def test_the_console_path_without_its_slash_leads_to_the_console(console: ConsoleApp) -> None:
    response = console.client.get("/-/console", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/-/console/"


def test_sign_in_never_redirects_off_the_console(console: ConsoleApp) -> None:
    response = console.client.post("/-/console/login?next=//evil.example/x",
                                   data={"secret_id": ADMIN[0], "secret_key": ADMIN[1]}, follow_redirects=False)
    assert response.headers["location"] == "/-/console/"


def test_tampered_foreign_or_expired_cookies_are_no_session() -> None:
    keys = SessionKeys({ADMIN[0]: ADMIN[1], VIEWER[0]: VIEWER[1]}, frozenset({VIEWER[0]}))
    now = time.time()
    cookie = keys.sign_in(*ADMIN, now)
    assert cookie and keys.read(cookie, now) is not None
    body, signature = cookie.split(".")
    assert keys.read(body + "." + signature[:-2] + "AA", now) is None
    # A viewer cannot mint an admin session: the signature key is the admin's own SecretKey.
    viewer_cookie = keys.sign_in(*VIEWER, now)
    assert viewer_cookie is not None
    assert keys.read(body + "." + viewer_cookie.split(".")[1], now) is None
    assert keys.read(cookie, now + 9 * 3600) is None
    # A key removed from the keys file ends its sessions.
    assert SessionKeys({VIEWER[0]: VIEWER[1]}).read(cookie, now) is None
    assert keys.sign_in("AKIDunknown", ADMIN[1], now) is None


def test_an_action_needs_the_session_csrf_token(console: ConsoleApp) -> None:
    console.sign_in()
    token = console.csrf()
    assert pause_queue(console) == 403
    assert pause_queue(console, csrf="0" * len(token)) == 403
    assert pic_queue_state(console) == QueueState.ACTIVE
    assert pause_queue(console, csrf=token) == 303
    assert pic_queue_state(console) == QueueState.PAUSED
    # htmx sends the token as a header instead of a form field.
    response = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}", data={"state": "Active"},
                                   headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303 and pic_queue_state(console) == QueueState.ACTIVE


def test_a_cross_origin_post_is_refused_even_with_the_token(console: ConsoleApp) -> None:
    console.sign_in()
    token = console.csrf()
    response = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}",
                                   data={"state": "Paused", "csrf": token},
                                   headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert response.status_code == 403 and pic_queue_state(console) == QueueState.ACTIVE


def test_a_read_only_session_can_look_but_not_act(console: ConsoleApp) -> None:
    console.sign_in(VIEWER)
    page = console.client.get(f"/-/console/b/{BUCKET}/queues")
    assert page.status_code == 200 and "read-only" in page.text
    assert "Pause</button>" not in page.text
    token = console.csrf("/-/console/")  # the sign-out form carries it
    assert pause_queue(console, csrf=token) == 403
    assert pic_queue_state(console) == QueueState.ACTIVE
    styles = console.client.post(f"/-/console/b/{BUCKET}/styles", data={"csrf": token, "name": "t", "body": "imageMogr2/rotate/90"})
    assert styles.status_code == 403 and "read-only" in styles.text
    assert console.deps.styles.list(CTX) == []
    assert console.client.get(f"/-/console/b/{BUCKET}/objects").status_code == 200


def test_object_keys_and_job_data_render_as_text(console: ConsoleApp) -> None:
    console.sign_in()
    hostile = "<img src=x onerror=alert(1)>.png"
    console.deps.storage.create_bucket(BUCKET)
    console.deps.storage.put(BUCKET, hostile, marker_png(), content_type="image/png")
    page = console.client.get(f"/-/console/b/{BUCKET}/objects").text
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page and "<img src=x" not in page
    job = console.deps.jobs.submit(CTX, parse_submit_job({
        "Tag": "PicProcess", "Input": {"Object": '<img src=x onerror="alert(2)">'},
        "Operation": {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"},
                      "Output": {"Bucket": BUCKET, "Region": "ap-guangzhou", "Object": "o.png"},
                      "UserData": "</pre><script>alert(3)</script>"}}))[0]
    listing = console.client.get(f"/-/console/b/{BUCKET}/jobs").text
    detail = console.client.get(f"/-/console/b/{BUCKET}/jobs/{job.job_id}").text
    for html in (listing, detail):
        assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=" in listing
    assert "&lt;/pre&gt;&lt;script&gt;alert(3)" in detail


def test_uploaded_pages_download_instead_of_rendering_in_the_console(console: ConsoleApp) -> None:
    console.sign_in()
    console.deps.storage.create_bucket(BUCKET)
    console.deps.storage.put(BUCKET, "page.html", b"<script>alert(1)</script>", content_type="text/html")
    console.deps.storage.put(BUCKET, "img.png", marker_png(), content_type="image/png")
    page = console.client.get(f"/-/console/b/{BUCKET}/raw", params={"key": "page.html"})
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in page.headers["content-security-policy"]
    image = console.client.get(f"/-/console/b/{BUCKET}/raw", params={"key": "img.png"})
    assert image.headers["content-type"] == "image/png" and image.content == marker_png()


def test_every_console_response_carries_a_strict_content_security_policy(console: ConsoleApp) -> None:
    login = console.client.get("/-/console/login")
    policy = login.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert login.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("bad", ["../etc", "UPPER-1", "a" * 200])
def test_a_bad_bucket_name_is_a_clear_400(console: ConsoleApp, bad: str) -> None:
    console.sign_in()
    response = console.client.get(f"/-/console/b/{bad}/jobs")
    assert response.status_code in (400, 404) and "Traceback" not in response.text


def test_a_form_without_its_length_is_refused_before_it_is_read(console: ConsoleApp) -> None:
    console.sign_in()
    token = console.csrf()

    def chunks():  # type: ignore[no-untyped-def]
        yield f"csrf={token}&state=Paused".encode()

    response = console.client.post(f"/-/console/b/{BUCKET}/queues/picqueue/{PIC_QUEUE}", content=chunks(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 411
    assert pic_queue_state(console) == QueueState.ACTIVE
    login = console.client.post("/-/console/login", content=chunks(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status_code == 411 and "Content-Length" in login.text
