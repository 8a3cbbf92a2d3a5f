"""Content-MD5: when a client sends it (GoSDK does on every CI body), the body must match."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import IO

from wanxiang.model.errors import CIError

CHUNK = 256 * 1024


def check_content_md5(body: bytes | IO[bytes], content_md5: str) -> None:
    """Raise 400 InvalidDigest / BadDigest unless ``body`` has the MD5 the header names.
    A file is read from its current position and rewound."""
    if not content_md5:
        return
    try:
        expected = base64.b64decode(content_md5, validate=True)
    except ValueError as exc:
        raise CIError(400, "InvalidDigest", "The Content-MD5 you specified is not valid base64.") from exc
    stream = io.BytesIO(body) if isinstance(body, bytes) else body
    digest = hashlib.md5()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    stream.seek(0)
    if digest.digest() != expected:
        raise CIError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
