"""What every use case knows about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BucketContext:
    bucket_id: str  # "<name>-<appid>"
    region: str
