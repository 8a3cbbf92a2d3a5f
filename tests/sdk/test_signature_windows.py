"""A live server holds a presigned URL to its end time exactly: no grace after it."""

from __future__ import annotations

import time

import requests

from tests.support.server import REGION, RunningServer
from wanxiang.wire.xml import parse_request


def test_a_presigned_download_works_until_its_end_and_is_refused_after(cos, server: RunningServer, bucket: str) -> None:  # type: ignore[no-untyped-def]
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"for a moment")
    # A browser sends the bucket's own Host; the IP-mode URL leaves it unsigned for that reason.
    url = cos.get_presigned_url(Bucket=bucket, Key="shared.txt", Method="GET", Expired=2, SignHost=False)
    host = {"Host": f"{bucket}.cos.{REGION}.myqcloud.com"}
    end = int(dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["q-sign-time"].split("%3B")[-1])
    assert requests.get(url, headers=host, timeout=10).content == b"for a moment"
    time.sleep(max(0.0, end + 1.5 - time.time()))
    expired = requests.get(url, headers=host, timeout=10)
    assert expired.status_code == 403
    error = parse_request(expired.content, root="Error")
    assert (error["Code"], error["Message"]) == ("AccessDenied", "Request has expired")
