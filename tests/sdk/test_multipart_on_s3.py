"""The multipart SDK tests, unchanged, against a server whose storage is S3 (a real SeaweedFS)."""

from __future__ import annotations

import pytest

from tests.sdk.test_multipart import *  # noqa: F403  (the same tests, collected again with the S3 server)
from tests.support.server import RunningServer


@pytest.fixture
def server(s3_server: RunningServer) -> RunningServer:
    return s3_server
