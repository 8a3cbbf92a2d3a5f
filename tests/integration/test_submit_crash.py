"""The API process SIGKILLed while many clients submit: every job it acknowledged is stored (on
SQLite the submits wait for their group commit on the event loop; none is answered before it)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from qcloud_cos.cos_exception import CosClientError, CosServiceError

from tests.conftest import sdk_client
from tests.support.server import REGION, start_server
from wanxiang.store.db import sqlite_url
from wanxiang.store.store import Store
from wanxiang.testing import group_members

BUCKET = "crash-1250000000"
CLIENTS = 8


def job(n: int) -> dict[str, Any]:
    return {"Tag": "PicProcess", "Input": {"Object": f"in/{n}.jpg"}, "Operation": {
        "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/100x"},
        "Output": {"Region": REGION, "Bucket": BUCKET, "Object": f"out/{n}.jpg"},
    }}


def test_every_submit_acknowledged_before_a_sigkill_of_the_server_is_stored(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv", "--workers", "0")
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()
    failed_before_the_kill: list[BaseException] = []

    def client(n: int) -> None:
        cos = sdk_client(server)
        for i in range(10_000):
            try:
                response = cos.ci_create_media_pic_jobs(Bucket=BUCKET, Jobs=job(n * 10_000 + i), Lst={})
            except (CosClientError, CosServiceError) as error:
                if not killed.is_set():
                    failed_before_the_kill.append(error)
                return
            with lock:
                acknowledged.append(str(response["JobsDetail"][0]["JobId"]))

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 200 and not failed_before_the_kill:
            time.sleep(0.01)
        killed.set()
        os.kill(server.process.pid, signal.SIGKILL)
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
    assert not group_members(server.process.pid)

    store = Store.open(sqlite_url(tmp_path / "srv"))
    try:
        found = {found.job_id for first in range(0, len(acknowledged), 500)
                 for found in store.jobs.get_many(BUCKET, acknowledged[first:first + 500])}
    finally:
        store.close()
    assert failed_before_the_kill == []
    assert len(acknowledged) >= 200
    assert set(acknowledged) <= found
