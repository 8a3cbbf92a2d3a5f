"""The worker's JobIO: what an engine may touch while it runs one job."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from wanxiang.engines.base import StoredObject
from wanxiang.model.errors import JobCancelled, JobFailure
from wanxiang.model.tree import text
from wanxiang.storage.base import InvalidObjectKey, NoSuchKey, ObjectStorage
from wanxiang.storage.safe_fs import descriptor_path


def location(bucket: str, region: str, key: str) -> str:
    return f"{bucket}.cos.{region}.myqcloud.com/{key}"


class StorageJobIO:
    def __init__(
        self,
        storage: ObjectStorage,
        bucket_id: str,
        region: str,
        input_key: str,
        output: dict[str, object],
        report_progress: Callable[[int], None],
        cancelled: threading.Event | None = None,
        on_output: Callable[[], None] | None = None,
    ) -> None:
        self.storage = storage
        self.bucket_id = bucket_id
        self.region = region
        self.input_key = input_key
        self.output_bucket = text(output, "Bucket") or bucket_id
        self.output_region = text(output, "Region") or region
        self._report = report_progress
        self._last_report = 0.0
        self._temp: Path | None = None
        # Set by the lease heartbeat when a user asks the job to stop; the engine meets it at its
        # next progress call or write.
        self.cancelled = cancelled or threading.Event()
        self.written: list[tuple[str, str]] = []
        self._input: BinaryIO | None = None
        self._input_path: Path | None = None
        self._abandoned = False
        # Called once, when the engine begins storing its output: the worker then claims its next
        # job, so that it is in hand when this one ends.
        self._on_output = on_output

    def abandon(self) -> None:
        """The job ended without its engine (its deadline passed): anything the engine still tries
        to store is refused, so a timed-out job leaves no output behind."""
        self._abandoned = True

    def input_path(self) -> Path:
        """A path the engine can open by name. For a file in local storage it is the descriptor the
        storage opened safely (``/proc/self/fd/N``, held until :meth:`close`), never the file's
        path below the data dir, which a symlink swapped in afterwards could redirect."""
        if self._input_path is not None:
            return self._input_path
        try:
            handle = self.storage.open(self.bucket_id, self.input_key)
        except InvalidObjectKey as exc:
            raise JobFailure("InvalidInput", f"The input object key is not valid: {exc}") from exc
        except NoSuchKey as exc:
            raise JobFailure("InputObjectNotExist", f"The input object {self.input_key!r} does not exist.") from exc
        except OSError as exc:
            raise JobFailure("InputObjectNotExist", f"The input object {self.input_key!r} cannot be read: {exc.strerror}.") from exc
        fd_path = descriptor_path(handle)
        if fd_path is not None:
            self._input, self._input_path = handle, fd_path
            return fd_path
        target = self.temp_dir() / "input"
        with handle as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        self._input_path = target
        return target

    def read_object(self, key: str, bucket: str | None = None) -> bytes:
        try:
            with self.storage.open(bucket or self.bucket_id, key) as fh:
                return fh.read()
        except (NoSuchKey, InvalidObjectKey) as exc:
            raise JobFailure("InputObjectNotExist", f"The object {key!r} does not exist.") from exc
        except OSError as exc:
            raise JobFailure("InputObjectNotExist", f"The object {key!r} cannot be read: {exc.strerror}.") from exc

    def write_object(self, key: str, data: bytes | Path, content_type: str, bucket: str | None = None) -> StoredObject:
        if self._abandoned:
            raise JobFailure("JobTimeout", "The job ran past its deadline; its output is not stored.")
        self._check_cancelled()
        self._output_begins()
        target = bucket or self.output_bucket
        try:
            meta = self.storage.put(target, key, data, content_type=content_type)
        except InvalidObjectKey as exc:
            raise JobFailure("InvalidOutput", f"The output object key {key!r} is not valid: {exc}") from exc
        except OSError as exc:  # a planted symlink on the way, a full disk: the job fails, named
            raise JobFailure("OutputStoreFailed", f"The output object {key!r} cannot be stored: {exc.strerror}.") from exc
        self.written.append((target, key))
        region = self.output_region if target == self.output_bucket else self.region
        return StoredObject(target, key, meta.etag, meta.size, location(target, region, key))

    def move_object(self, key: str, new_key: str) -> None:
        self._check_cancelled()
        self._output_begins()
        meta = self.storage.head(self.bucket_id, key)
        if meta is None:
            raise JobFailure("InputObjectNotExist", f"The object {key!r} does not exist.")
        try:
            with self.storage.open(self.bucket_id, key) as source:
                self.storage.put(self.bucket_id, new_key, source, content_type=meta.content_type, meta=meta.meta)
        except (NoSuchKey, InvalidObjectKey) as exc:
            raise JobFailure("InvalidOutput", f"Cannot move {key!r} to {new_key!r}: {exc}") from exc
        self.storage.delete(self.bucket_id, key)

    def delete_object(self, key: str) -> None:
        self._check_cancelled()
        try:
            self.storage.delete(self.bucket_id, key)
        except InvalidObjectKey as exc:
            raise JobFailure("InvalidInput", f"The object key {key!r} is not valid: {exc}") from exc

    def temp_dir(self) -> Path:
        if self._temp is None:
            self._temp = Path(tempfile.mkdtemp(prefix="wanxiang-job-"))
        return self._temp

    def progress(self, percent: int) -> None:
        if self._abandoned:
            return
        self._check_cancelled()
        now = time.monotonic()
        if now - self._last_report >= 1.0:
            self._last_report = now
            self._report(max(0, min(100, int(percent))))

    def _output_begins(self) -> None:
        if self._on_output is not None:
            on_output, self._on_output = self._on_output, None
            on_output()

    def _check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled()

    def discard_outputs(self) -> None:
        """Delete what a cancelled job stored before it stopped: a cancelled job leaves no output."""
        for bucket, key in self.written:
            self.storage.delete(bucket, key)
        self.written.clear()

    def close(self) -> None:
        if self._input is not None:
            self._input.close()
            self._input = None
        self._input_path = None
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
