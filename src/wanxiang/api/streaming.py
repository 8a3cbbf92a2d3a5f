"""Object downloads as a response that owns its file: closed when the body is sent, when the client
goes away mid-stream, and when the send is cancelled (Starlette cancels a streaming body on
disconnect and never closes a sync iterator, which left the file open until garbage collection)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

log = logging.getLogger("wanxiang.api")
CHUNK = 256 * 1024


class ObjectStreamResponse(StreamingResponse):
    def __init__(
        self, stream: BinaryIO, start: int, length: int, *, status_code: int, headers: Mapping[str, str]
    ) -> None:
        self.stream = stream
        super().__init__(_chunks(stream, start, length), status_code=status_code, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:
            log.debug("client went away during a download of %s", scope.get("path"))
        except OSError as error:  # the file failed mid-stream: the client sees a short body
            log.warning("download of %s stopped: %r", scope.get("path"), error)
        finally:
            # Runs on cancellation too. A read still in its thread holds the buffer's lock, so the
            # close waits for it rather than pulling the descriptor from under it.
            self.stream.close()


def _chunks(stream: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    stream.seek(start)
    left = length
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        yield chunk


def temp_file_response(path: str, size: int, content_type: str) -> ObjectStreamResponse:
    """Stream a temp file and remove it: unlinked at once, its open descriptor keeps it readable."""
    stream = open(path, "rb")  # noqa: SIM115 - the response closes it
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    headers = {"Content-Type": content_type, "Content-Length": str(size)}
    return ObjectStreamResponse(stream, 0, size, status_code=200, headers=headers)
