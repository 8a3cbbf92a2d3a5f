"""A seekable, streaming reader over S3 GETs: bytes arrive as they are read, never the whole object.

Seeking drops the current response; the next read asks for ``Range: bytes=<pos>-``. So a ranged
download is one ranged GET, and a reader that only reads forward is one plain GET.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from wanxiang.storage.s3_client import guarded

GetObject = Callable[[str | None], Any]
"""Called with a Range header value (or None); returns botocore's ``get_object`` answer."""


class S3RawReader(io.RawIOBase):
    def __init__(self, get_object: GetObject, size: int, first_response: Any | None = None) -> None:
        self._get_object = get_object
        self._size = size
        self._position = 0
        self._body: Any | None = None if first_response is None else first_response["Body"]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_body()
            self._position = target
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        if self._body is None:
            range_header = f"bytes={self._position}-" if self._position else None
            self._body = self._get_object(range_header)["Body"]
        chunk = guarded(self._body.read)(len(view))
        view[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
