"""What an engine is: the typed interface between the worker and one job Tag's processing.

Engines never touch SQL or HTTP. The worker hands them an :class:`EngineJob` (the job's trees,
with any template already merged into the Operation) and a :class:`JobIO` through which they read
inputs and write outputs; they return the result nodes to add to the job's Operation, or raise
:class:`wanxiang.model.errors.JobFailure` with a CI Code and Message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wanxiang.model.tree import Tree


@dataclass(frozen=True)
class StoredObject:
    """An object as written to storage."""

    bucket: str
    key: str
    etag: str  # quoted MD5, as COS sends it
    size: int
    location: str  # "<bucket>.cos.<region>.myqcloud.com/<key>"


@dataclass(frozen=True)
class EngineJob:
    job_id: str
    tag: str
    bucket_id: str
    region: str
    input: Tree  # Input: Object (+ Lang, Type, Url ... per tag)
    operation: Tree  # Operation: tag params (template merged), Output, UserData, JobLevel


class JobIO(Protocol):
    """The worker's side of a running job: storage access and progress, nothing else."""

    def input_path(self) -> Path:
        """A local file holding the job's input object (raises JobFailure when it is missing)."""
        ...

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        """Another object's bytes (e.g. a watermark image); raises JobFailure when missing."""
        ...

    def write_object(
        self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None
    ) -> StoredObject:
        """Store an output object (bucket defaults to the job's Output/Bucket or own bucket)."""
        ...

    def move_object(self, key: str, new_key: str) -> None:
        """Move an object of the job's bucket, keeping its content type and metadata."""
        ...

    def delete_object(self, key: str) -> None:
        """Delete an object of the job's bucket (absent already is fine)."""
        ...

    def temp_dir(self) -> Path:
        """A private scratch folder, removed after the job."""
        ...

    def progress(self, percent: int) -> None:
        """Report how far the job is. Also where a job a user cancelled stops: it raises
        ``JobCancelled``. Call it between steps (frames, operations), as often as is cheap; the
        worker throttles what it records."""
        ...


class Engine(Protocol):
    """Runs the jobs of one Tag."""

    tag: str

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        """Process one job; return the result nodes to merge into its Operation."""
        ...


EngineFactory = Callable[[], Engine]
