"""Processing on download with the storage on S3 (a real SeaweedFS): no local file to hand libvips,
so the object's bytes are read from S3 (bounded) and processed; the result cache works the same."""

from __future__ import annotations

import pytest

from tests.sdk.test_image_processing import (
    test_a_processed_download_carries_an_etag_a_cdn_can_revalidate_and_follows_the_object,
    test_download_with_a_rule_returns_the_processed_image,
)
from tests.support.server import RunningServer

__all__ = [
    "test_a_processed_download_carries_an_etag_a_cdn_can_revalidate_and_follows_the_object",
    "test_download_with_a_rule_returns_the_processed_image",
]


@pytest.fixture
def server(s3_server: RunningServer) -> RunningServer:
    return s3_server


