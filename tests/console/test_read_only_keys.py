"""A key the keys file marks ``readonly``: it reads through the API and the console, and writes nowhere."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.images import marker_png
from tests.support.server import REGION, SECRET_ID, SECRET_KEY, start_server

VIEWER = ("AKIDreadonlyviewer0000000000000", "viewer-key")


def client(port: int, pair: tuple[str, str]) -> CosS3Client:
    config = CosConfig(Region=REGION, SecretId=pair[0], SecretKey=pair[1], Scheme="http", IP="127.0.0.1", Port=port)
    return CosS3Client(config, retry=0)


def test_a_read_only_key_reads_but_cannot_write_through_the_api_or_the_console(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"{VIEWER[0]} {VIEWER[1]} readonly\n")
    server = start_server(tmp_path / "data", "--workers", "0", env={"WANXIANG_KEYS_FILE": str(keys)})
    bucket = "ro-1250000000"
    try:
        admin, viewer = client(server.port, (SECRET_ID, SECRET_KEY)), client(server.port, VIEWER)
        admin.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
        assert viewer.get_object(Bucket=bucket, Key="a.png")["Body"].get_raw_stream().read() == marker_png()
        with pytest.raises(CosServiceError) as refused:
            viewer.put_object(Bucket=bucket, Body=b"x", Key="b.png")
        assert refused.value.get_status_code() == 403 and refused.value.get_error_code() == "AccessDenied"
        with pytest.raises(CosServiceError):
            viewer.delete_object(Bucket=bucket, Key="a.png")
        assert admin.head_object(Bucket=bucket, Key="a.png")

        with httpx.Client(base_url=server.url, follow_redirects=True) as browser:
            browser.post("/-/console/login", data={"secret_id": VIEWER[0], "secret_key": VIEWER[1]})
            page = browser.get(f"/-/console/b/{bucket}/objects")
            assert "read-only" in page.text and "a.png" in page.text and "Delete</button>" not in page.text
    finally:
        server.stop()
