"""The project's live servers: the plugin's ``start_server`` (wanxiang.testing), run strict with
fixed test credentials and private callbacks allowed."""

from __future__ import annotations

from pathlib import Path

from wanxiang import testing
from wanxiang.testing import RunningServer, free_port

__all__ = ["REGION", "SECRET_ID", "SECRET_KEY", "RunningServer", "free_port", "start_server"]

SECRET_ID = "AKIDwanxiangtest0000000000000000"
SECRET_KEY = "wanxiang-test-secret-key"
REGION = testing.REGION


def start_server(data_dir: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 60) -> RunningServer:
    credentials = {"WANXIANG_SECRET_ID": SECRET_ID, "WANXIANG_SECRET_KEY": SECRET_KEY}
    running = testing.start_server(data_dir, "--allow-private-callbacks", *extra, env={**credentials, **(env or {})},
                                   timeout=timeout, dev=False)
    running.secret_id, running.secret_key = SECRET_ID, SECRET_KEY
    return running
