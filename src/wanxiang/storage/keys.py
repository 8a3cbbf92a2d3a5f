"""Bucket/key validation and the mapping of an object key onto file names (pure).

File layout of a key ``"a/b/c.jpg"``: one directory per ``/``-separated segment before the last, named
``<segment>%2F`` (the slash, percent-encoded), then a file named ``<segment>``. A segment can never
contain ``/`` and ``%`` is always escaped, so a file name never ends in ``%2F``: the object ``a``,
the folder marker ``a/`` (an empty last segment, stored as the file ``a%2F/%``) and ``a/b`` all coexist.

Escaped in a segment: ``%`` and control characters (``%XX``). An empty segment (``a//b`` or ``a/``)
is spelled ``%``, which escaping never produces otherwise.

Refused keys (``InvalidObjectKey``): empty, longer than 850 UTF-8 bytes (the COS limit), starting with
``/``, containing NUL, a ``.`` or ``..`` segment, a segment whose file name would exceed 240 bytes,
or text that is not encodable as UTF-8.
"""

from __future__ import annotations

import re

from wanxiang.storage.base import InvalidBucketName, InvalidObjectKey

MAX_KEY_BYTES = 850
MAX_NAME_BYTES = 240  # leaves room for the ".json" sidecar suffix under the usual 255-byte limit
DIR_SUFFIX = "%2F"
EMPTY_SEGMENT = "%"

_BUCKET = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_ESCAPED = re.compile(r"[%\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")


def validate_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise InvalidBucketName(f"invalid bucket name {bucket!r}: use a-z, 0-9 and '-', 1 to 63 characters")
    return bucket


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidObjectKey("the object key is empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidObjectKey(f"the object key is not valid UTF-8 text: {key!r}") from None
    if size > MAX_KEY_BYTES:
        raise InvalidObjectKey(f"the object key is {size} bytes long; the limit is {MAX_KEY_BYTES}")
    if key.startswith("/"):
        raise InvalidObjectKey(f"the object key must not start with '/': {key!r}")
    if "\x00" in key:
        raise InvalidObjectKey(f"the object key must not contain NUL: {key!r}")
    for segment in key.split("/"):
        if segment in (".", ".."):
            raise InvalidObjectKey(f"the object key must not contain a '{segment}' segment: {key!r}")
        if len(encode_segment(segment).encode("utf-8")) + len(DIR_SUFFIX) > MAX_NAME_BYTES:
            raise InvalidObjectKey(f"a segment of the object key is too long: {segment[:40]!r}...")
    return key


def encode_segment(segment: str) -> str:
    if not segment:
        return EMPTY_SEGMENT
    return _ESCAPED.sub(lambda m: f"%{ord(m.group()):02X}", segment)


def decode_segment(name: str) -> str | None:
    """The segment a file name stands for, or None for a name no key maps to (temp files, strays)."""
    if name == EMPTY_SEGMENT:
        return ""
    if not name or name in (".", ".."):
        return None
    pieces = _ESCAPE.split(name)
    # split() alternates text, captured hex, text...; any '%' left in the text parts is not ours.
    if any("%" in text for text in pieces[0::2]):
        return None
    decoded = "".join(text if i % 2 == 0 else chr(int(text, 16)) for i, text in enumerate(pieces))
    return decoded if encode_segment(decoded) == name else None


def key_to_names(key: str) -> tuple[list[str], str]:
    """(directory names, file name) for a validated key."""
    *dirs, last = key.split("/")
    return [encode_segment(d) + DIR_SUFFIX for d in dirs], encode_segment(last)


def dir_name_to_segment(name: str) -> str | None:
    if not name.endswith(DIR_SUFFIX):
        return None
    return decode_segment(name[: -len(DIR_SUFFIX)])


def file_name_to_segment(name: str) -> str | None:
    if name.endswith(DIR_SUFFIX):
        return None
    return decode_segment(name)
