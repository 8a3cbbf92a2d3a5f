"""What an object's GET/HEAD carries: stored headers, ``response-*`` overrides, conditional requests."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import format_datetime, parsedate_to_datetime

from wanxiang.api.request import ApiRequest
from wanxiang.model.errors import CIError
from wanxiang.storage.base import STANDARD_HEADERS, USER_META_PREFIX, ObjectMeta

# ?response-<name>=value replaces the header <Name> in this one answer (COS GET Object).
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def object_headers(meta: ObjectMeta) -> dict[str, str]:
    headers = {
        "ETag": meta.etag,
        "Last-Modified": format_datetime(meta.last_modified, usegmt=True),
        "Content-Type": meta.content_type,
        "Accept-Ranges": "bytes",
        "x-cos-storage-class": "STANDARD",
    }
    for name in STANDARD_HEADERS:
        if name in meta.headers:
            headers[name.title()] = meta.headers[name]
    for name, value in meta.meta.items():
        headers[USER_META_PREFIX + name] = value
    return headers


def apply_overrides(params: Mapping[str, str], headers: dict[str, str]) -> None:
    for param, header in RESPONSE_OVERRIDES.items():
        value = params.get(param)
        if value:
            headers[header] = value


def upload_attributes(req: ApiRequest) -> tuple[str, dict[str, str], dict[str, str]]:
    """(content type, user metadata, standard headers) an upload request sets."""
    meta = {k: v for k, v in req.headers.items() if k.startswith(USER_META_PREFIX)}
    standard = {k: v for k, v in req.headers.items() if k in STANDARD_HEADERS}
    return req.header("content-type") or "application/octet-stream", meta, standard


def not_modified(req: ApiRequest, meta: ObjectMeta) -> bool:
    """True when the answer is 304 Not Modified; raises 412 PreconditionFailed when a precondition fails.
    Order as RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since."""
    if_match = req.header("if-match")
    if if_match and not _etag_matches(if_match, meta.etag):
        raise _precondition("If-Match")
    if not if_match and _after(meta, req.header("if-unmodified-since")):
        raise _precondition("If-Unmodified-Since")
    if_none_match = req.header("if-none-match")
    if if_none_match:
        return _etag_matches(if_none_match, meta.etag)
    since = _parse_date(req.header("if-modified-since"))
    return since is not None and not _after(meta, req.header("if-modified-since"))


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return "*" in wanted or etag.strip('"') in wanted


def _parse_date(value: str) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None  # an unreadable date is ignored, as HTTP says


def _after(meta: ObjectMeta, header: str) -> bool:
    """The object changed after the header's date (HTTP dates have whole seconds)."""
    when = _parse_date(header)
    return when is not None and int(meta.last_modified.timestamp()) > int(when)


def _precondition(header: str) -> CIError:
    return CIError(412, "PreconditionFailed", f"The condition in {header} does not hold for this object.")
