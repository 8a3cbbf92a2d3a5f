"""Benchmarks: each prints our figure beside a baseline measured in the same run, as a ratio.

Run them all with ``make bench`` (or ``python -m bench [name ...] [--quick]``). The helpers here
are what several benches share: the quick switch, a signed HTTP client for a live server, and
the p50/p99 of a list of timings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

import httpx

from wanxiang.api.signature import SignedRequest, sign

QUICK_ENV = "WANXIANG_BENCH_QUICK"
REGION = "ap-guangzhou"


def quick() -> bool:
    """True when the run asked for small sizes (``--quick`` or ``WANXIANG_BENCH_QUICK=1``)."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


def sized(full: int, small: int) -> int:
    return small if quick() else full


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class SignedClient:
    """Requests to a live wanxiang, each signed as the SDK signs it (host and every parameter).

    One client keeps one keep-alive connection; give each thread its own.
    """

    def __init__(self, base_url: str, bucket: str, secret_id: str, secret_key: str) -> None:
        self.bucket = bucket
        self.host = f"{bucket}.cos.{REGION}.myqcloud.com"
        self._secret = (secret_id, secret_key)
        self._http = httpx.Client(base_url=base_url, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        query = list((params or {}).items())
        now = int(time.time())
        authorization = sign(
            SignedRequest(method, path, query, {"host": self.host}),
            *self._secret,
            start=now - 60,
            end=now + 3600,
        )
        all_headers = {"Host": self.host, "Authorization": authorization, **(headers or {})}
        response = self._http.request(method, path, params=dict(query), content=content, headers=all_headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response

    def close(self) -> None:
        self._http.close()
