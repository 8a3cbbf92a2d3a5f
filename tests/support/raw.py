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


def raw_path_request(server: RunningServer, method: str, raw_path: str, bucket: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``raw_path`` byte for byte (no dot-segment clean-up, as a hostile client would),
    signed with the server's own signer."""
    import http.client
    import time

    from wanxiang.api.signature import SignedRequest, sign

    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    headers = {"host": host, "content-length": str(len(body))}
    now = int(time.time())
    auth = sign(SignedRequest(method, raw_path, [], headers), SECRET_ID, SECRET_KEY, start=now - 60, end=now + 600)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, raw_path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Authorization", auth)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
