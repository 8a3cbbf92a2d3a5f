"""How objects look on an S3 store and back: content type, user metadata (RFC 2047 where not ASCII),
the standard headers as S3's own, the ETag wanxiang answers with, and bodies made seekable.

ETag: S3's answer for a single PUT is the MD5. Where S3's ETag is not the one COS would give (an
object wanxiang uploaded in parts, a COS multipart upload assembled from other parts), the right one
is kept in metadata that ``meta_of`` answers with and hides: ``wanxiang-md5`` / ``wanxiang-etag``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, BinaryIO

from wanxiang.storage.base import DEFAULT_CONTENT_TYPE, ObjectMeta, quoted_etag

CHUNK = 1 << 20
MD5_META = "wanxiang-md5"
ETAG_META = "wanxiang-etag"
PLAIN_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
_RFC2047 = re.compile(r"^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$", re.IGNORECASE)
# The standard object headers (base.STANDARD_HEADERS) as boto3 names them, both ways.
HEADER_PARAMS = {
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "expires": "Expires",
}


def object_attributes(content_type: str, user_meta: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, Any]:
    """boto3 parameters carrying an object's content type, user metadata and standard headers."""
    attributes: dict[str, Any] = {
        "ContentType": content_type or DEFAULT_CONTENT_TYPE,
        "Metadata": {name: header_safe(value) for name, value in user_meta.items()},
    }
    for name, value in headers.items():
        attributes[HEADER_PARAMS[name]] = value
    return attributes


def error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def meta_of(bucket: str, key: str, answer: Mapping[str, Any]) -> ObjectMeta:
    stored = {str(k).lower(): from_header(str(v)) for k, v in (answer.get("Metadata") or {}).items()}
    md5 = stored.pop(MD5_META, None)
    cos_etag = stored.pop(ETAG_META, None)
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(answer.get("ContentLength", 0)),
        etag=quoted_etag(override) if (override := md5 or cos_etag) else str(answer.get("ETag", "")),
        content_type=str(answer.get("ContentType") or DEFAULT_CONTENT_TYPE),
        last_modified=utc(answer["LastModified"]),
        meta=stored,
        headers=headers_of(answer),
    )


def headers_of(answer: Mapping[str, Any]) -> dict[str, str]:
    found = {name: str(answer[param]) for name, param in HEADER_PARAMS.items() if answer.get(param)}
    if "expires" in found:  # boto3 parses Expires; the text as sent is kept beside it
        found["expires"] = str(answer.get("ExpiresString") or format_datetime(answer["Expires"], usegmt=True))
    return found


def listed_meta(bucket: str, key: str, entry: Mapping[str, Any]) -> ObjectMeta:
    """What ListObjects tells: no content type or user metadata (as on S3 and COS)."""
    return ObjectMeta(
        bucket=bucket,
        key=key,
        size=int(entry.get("Size", 0)),
        etag=str(entry.get("ETag", "")),
        content_type=DEFAULT_CONTENT_TYPE,
        last_modified=utc(entry["LastModified"]),
    )


def header_safe(value: str) -> str:
    """S3 metadata travels in headers and must be ASCII; other text goes as RFC 2047 (as S3 answers it)."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii") + "?="


def from_header(value: str) -> str:
    match = _RFC2047.match(value)
    if match is None:
        return value
    try:
        return base64.b64decode(match.group(1), validate=True).decode("utf-8", "surrogatepass")
    except ValueError:
        return value


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def md5_of(body: BinaryIO) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := body.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def seekable(data: bytes | BinaryIO | Path) -> Iterator[tuple[BinaryIO, int]]:
    """The data as a seekable stream positioned at its start, and its length from there."""
    if isinstance(data, bytes | bytearray | memoryview):
        yield io.BytesIO(data), len(data)
        return
    if isinstance(data, Path):
        with data.open("rb") as source:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            yield source, size
            return
    try:
        if not data.seekable():
            raise OSError("not seekable")
        start = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(start)
    except (AttributeError, OSError, ValueError):
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(data, spool, CHUNK)
            size = spool.tell()
            spool.seek(0)
            yield spool, size
        return
    yield data, end - start
