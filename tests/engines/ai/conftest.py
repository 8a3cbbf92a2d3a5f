"""A JobIO over a temporary folder: the worker's contract, played by the local file system."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from wanxiang.engines.base import EngineJob, StoredObject
from wanxiang.model.errors import JobFailure
from wanxiang.model.tree import Tree


class FolderJobIO:
    def __init__(self, root: Path, input_key: str) -> None:
        self.root = root
        self.input_key = input_key
        self.written: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.percent = 0

    def input_path(self) -> Path:
        path = self.root / "bucket" / self.input_key
        if not path.exists():
            raise JobFailure("InputObjectNotExist", self.input_key)
        return path

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        return (self.root / "bucket" / key).read_bytes()

    def write_object(
        self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None
    ) -> StoredObject:
        body = data.read_bytes() if isinstance(data, Path) else data
        self.written[key] = body
        self.content_types[key] = content_type
        return StoredObject(
            "b-1250000000", key, f'"{hashlib.md5(body).hexdigest()}"', len(body), f"x/{key}"
        )

    def temp_dir(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(exist_ok=True)
        return path

    def progress(self, percent: int) -> None:
        self.percent = percent


MakeJob = Callable[[str, bytes, Tree, Tree], tuple[EngineJob, FolderJobIO]]


@pytest.fixture
def make_job(tmp_path: Path) -> MakeJob:
    """``make_job(key, body, input_extra, operation)`` stores ``body`` as the input object."""

    def make(key: str, body: bytes, input_extra: Tree, operation: Tree) -> tuple[EngineJob, FolderJobIO]:
        path = tmp_path / "bucket" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        job = EngineJob(
            job_id="a" + "0" * 32,
            tag="",
            bucket_id="b-1250000000",
            region="ap-guangzhou",
            input={"Object": key, **input_extra},
            operation=operation,
        )
        return job, FolderJobIO(tmp_path, key)

    return make


def tool_missing(name: str) -> bool:
    return shutil.which(name) is None
