"""Dev-mode tests share the plugin's own ``wanxiang_server`` (``serve --dev``) and drive it with the
``wanxiang`` command in-process (``main(argv)``, ``--json`` parsed) or as a subprocess."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wanxiang.cli import main
from wanxiang.testing import RunningServer

Cli = Callable[..., tuple[int, Any]]


@pytest.fixture
def cli(wanxiang_server: RunningServer, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("jobs", "get", id, bucket=b)`` -> (exit code, the parsed ``--json`` output or None)."""

    def run(*args: str, bucket: str = "") -> tuple[int, Any]:
        argv = [*args, "--endpoint", wanxiang_server.url, "--json", *(["--bucket", bucket] if bucket else [])]
        code = main(argv)
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    return run


@pytest.fixture
def dev_bucket() -> str:
    return f"d{uuid.uuid4().hex[:10]}-1250000000"


@pytest.fixture
def normal_afterwards(cli: Cli) -> Iterator[None]:
    """Test modes are server-wide: put every scope back to normal after the test."""
    yield
    code, shown = cli("test-mode", "show")
    for mode in shown["TestMode"]:
        queue = [] if mode["QueueId"] == "*" else ["--queue-id", mode["QueueId"]]
        cli("test-mode", "set", "normal", *queue)
