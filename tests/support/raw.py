"""Requests the SDK has no call for (extra list filters, malformed bodies), signed by the SDK's own signer."""

from __future__ import annotations

from typing import Any

import requests
from qcloud_cos import CosConfig
from qcloud_cos.cos_auth import CosS3Auth

from tests.support.server import REGION, SECRET_ID, SECRET_KEY, RunningServer


def signed(
    server: RunningServer,
    method: str,
    path: str,
    bucket: str,
    *,
    params: dict[str, str] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    secret_key: str = SECRET_KEY,
) -> requests.Response:
    config = CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=secret_key, Scheme="http")
    all_headers: dict[str, Any] = {"Host": f"{bucket}.cos.{REGION}.myqcloud.com"}
    all_headers.update(headers or {})
    auth = CosS3Auth(config, path, params=params or {})
    return requests.request(
        method, server.url + path, params=params, data=body, headers=all_headers, auth=auth, timeout=30
    )
