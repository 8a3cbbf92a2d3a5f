"""The live job view's event stream on a real server."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import httpx

from tests.support.server import SECRET_ID, SECRET_KEY, start_server
from wanxiang.console.jobs_pages import LIVE_STREAM_SECONDS


def test_an_open_live_view_does_not_hold_a_stopping_server_open(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--workers", "0")
    lines: list[str] = []
    opened = threading.Event()
    try:
        client = httpx.Client(base_url=server.url, timeout=60)
        client.post("/-/console/login", data={"secret_id": SECRET_ID, "secret_key": SECRET_KEY})

        def listen() -> None:
            try:
                with client.stream("GET", "/-/console/b/live-1250000000/jobs/events") as response:
                    for line in response.iter_lines():
                        lines.append(line)
                        if line.startswith("event: hello"):
                            opened.set()
            except httpx.HTTPError:
                pass

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert opened.wait(30), lines
        server.process.send_signal(signal.SIGINT)
        # Well inside the stream's own lifetime: the server ended the stream when it began to stop.
        server.process.wait(timeout=LIVE_STREAM_SECONDS * 0.75)
        assert server.process.returncode == 0, server.log()
        reader.join(10)
        assert not reader.is_alive()
    except subprocess.TimeoutExpired:
        raise AssertionError("the server waited for the console's event stream to end") from None
    finally:
        server.stop()
