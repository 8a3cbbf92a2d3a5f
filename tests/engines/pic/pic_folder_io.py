"""A JobIO backed by a temp folder: the worker's storage side, for engine tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from wanxiang.engines.base import StoredObject
from wanxiang.model.errors import JobFailure


class FolderIO:
    """Objects are files under ``root/<bucket>/<key>``; the job's input is ``input_key``."""

    def __init__(self, root: Path, bucket: str, region: str, input_key: str) -> None:
        self.root, self.bucket, self.region, self.input_key = root, bucket, region, input_key
        self.progress_seen: list[int] = []

    def put(self, key: str, data: bytes, bucket: str | None = None) -> None:
        path = self.root / (bucket or self.bucket) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def input_path(self) -> Path:
        path = self.root / self.bucket / self.input_key
        if not path.exists():
            raise JobFailure("InputObjectNotExist", f"{self.input_key} does not exist")
        return path

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        path = self.root / (bucket or self.bucket) / key
        if not path.exists():
            raise JobFailure("InputObjectNotExist", f"{key} does not exist")
        return path.read_bytes()

    def write_object(
        self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None
    ) -> StoredObject:
        body = data.read_bytes() if isinstance(data, Path) else data
        target = bucket or self.bucket
        self.put(key, body, target)
        return StoredObject(
            target,
            key,
            f'"{hashlib.md5(body).hexdigest()}"',
            len(body),
            f"{target}.cos.{self.region}.myqcloud.com/{key}",
        )

    def temp_dir(self) -> Path:
        path = self.root / "_tmp"
        path.mkdir(exist_ok=True)
        return path

    def progress(self, percent: int) -> None:
        self.progress_seen.append(percent)
