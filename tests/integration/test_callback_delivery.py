"""Callback delivery from the real outbox: private targets are never connected to."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.builders import BUCKET, REGION, pic_job
from wanxiang.callbacks.deliver import Deliverer, HttpTransport
from wanxiang.model import times
from wanxiang.model.job import JobState
from wanxiang.store.outbox import PendingCallback
from wanxiang.store.store import Store


class Canary:
    """A loopback endpoint that counts every connection made to it."""

    def __init__(self) -> None:
        self.hits = 0
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                canary.hits += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_callbacks_to_private_addresses_are_refused_without_a_connection(store: Store) -> None:
    canary = Canary()
    try:
        store.queues.ensure_bucket(BUCKET, REGION, times.now())
        targets = [f"http://127.0.0.1:{canary.port}/a", f"http://localhost:{canary.port}/b",
                   f"http://[::ffff:127.0.0.1]:{canary.port}/c", f"http://2130706433:{canary.port}/d"]
        job_ids = []
        for url in targets:
            job = pic_job(created=times.now())
            store.jobs.insert([job])
            claim = store.job_queue.claim(times.now(), 30)
            assert claim is not None
            store.job_queue.finish(claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {},
                               callbacks=[PendingCallback("TaskFinish", url, "application/xml", "<x/>")])
            job_ids.append(claim.job.job_id)
        deliverer = Deliverer(store.callbacks, transport=HttpTransport(timeout=2), allow_private=False)
        while deliverer.deliver_due():
            pass
        assert canary.hits == 0
        for job_id in job_ids:
            [record] = store.callbacks.for_job(job_id)
            assert record.state == "Failed" and record.attempts == 1 and "refused" in record.last_error
        # The same outbox, with private targets allowed (as tests and closed networks do), delivers.
        job = pic_job(created=times.now())
        store.jobs.insert([job])
        claim = store.job_queue.claim(times.now(), 30)
        assert claim is not None
        store.job_queue.finish(claim.job.job_id, claim.lease_token, times.now(), JobState.SUCCESS, "Success", "", {},
                           callbacks=[PendingCallback("TaskFinish", targets[0], "application/xml", "<x/>")])
        Deliverer(store.callbacks, transport=HttpTransport(timeout=2), allow_private=True).deliver_due()
        assert canary.hits == 1
        assert store.callbacks.for_job(claim.job.job_id)[0].state == "Delivered"
    finally:
        canary.httpd.shutdown()
        canary.httpd.server_close()
