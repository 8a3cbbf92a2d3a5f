"""The request as handlers see it: parsed once, framework-free, so handlers stay thin and sync."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from wanxiang.model.errors import CIError
from wanxiang.services.context import BucketContext


@dataclass
class ApiRequest:
    method: str
    path: str  # percent-decoded
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    request_id: str
    bucket_id: str | None
    region: str
    body: bytes = b""
    body_file: IO[bytes] | None = None  # object uploads are spooled, not held in memory
    route_args: dict[str, str] = field(default_factory=dict)
    raw_query: str = ""
    ci_host: bool = False  # sent to a ``.ci.`` host: routed as CI whatever its shape

    @property
    def params(self) -> dict[str, str]:
        """Query parameters by name (first value wins)."""
        out: dict[str, str] = {}
        for key, value in self.query:
            out.setdefault(key, value)
        return out

    def has_flag(self, name: str) -> bool:
        return any(key.lower() == name for key, _ in self.query)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def ctx(self) -> BucketContext:
        if not self.bucket_id:
            raise CIError(
                404,
                "NoSuchBucket",
                "The request names no bucket: send Host as <bucket>-<appid>.cos.<region>.myqcloud.com "
                "(the SDK does this in IP/Port mode) or start the server with --default-bucket.",
            )
        return BucketContext(self.bucket_id, self.region)
