"""COS/CI request signature (``q-sign-algorithm=sha1``), checked the way the official PySDK builds it.

Pure: the HTTP layer hands over a :class:`SignedRequest` (method, wire path, decoded query pairs, headers)
and gets back the SecretId or a :class:`~wanxiang.model.errors.CIError`.

Time window (``now`` against ``q-sign-time`` and ``q-key-time``): before ``start - skew`` -> 403
``RequestTimeTooSkewed`` (the client clock runs ahead of ours; the only allowance, since a client
signs with ``start`` = its own now); after ``end`` -> 403 ``AccessDenied`` "Request has expired",
with no allowance (an allowance after the end would keep every leaked URL alive that much longer);
a window longer than ``max_window_seconds`` (7 days by default, as S3 presigning) -> 403
``AccessDenied``, so no signature is valid for ever.

A presigned URL (the same ``q-*`` fields in the query string, no Authorization header) is accepted
too; the ``q-*`` parameters are never part of the signed parameters.

Header values are expected as an ASGI server decodes them (latin-1); values decoded as UTF-8 are
accepted too, since both spellings of a non-ASCII value are tried.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from wanxiang.model.errors import CIError, access_denied

ALGORITHM = "sha1"
MAX_WINDOW_SECONDS = 7 * 24 * 3600

# Headers PySDK puts into the signature besides every x-cos-* / x-ci-* one (cos_auth.filter_headers).
SDK_SIGNED_HEADERS = frozenset(
    {
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    }
)
_SIGNED_PREFIXES = ("x-cos-", "x-ci-")
_FIELDS = (
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
)


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]


class SignatureDoesNotMatch(CIError):
    """403 SignatureDoesNotMatch, carrying what the server computed (COS echoes StringToSign)."""

    def __init__(self, string_to_sign: str, http_string: str) -> None:
        shown = string_to_sign.replace("\n", "\\n")
        super().__init__(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            f"Check your key and signing method. StringToSign: {shown}",
        )
        self.string_to_sign = string_to_sign
        self.http_string = http_string


def _encode(value: str | bytes) -> str:
    # RFC 3986 unreserved kept, everything else %XX (PySDK: quote(v, '-_.~')).
    return quote(value, safe="-_.~")


def _encode_name(name: str) -> str:
    return _encode(name).lower()


# ---------------------------------------------------------------------------------------------------
# Authorization header


def parse_authorization(value: str) -> dict[str, str]:
    """Split ``q-…=…&…`` into its fields; every field in :data:`_FIELDS` must be present exactly once."""
    text = (value or "").strip()
    if not text:
        raise access_denied("Authorization header is missing or empty.")
    fields: dict[str, str] = {}
    for part in text.split("&"):
        name, sep, field_value = part.partition("=")
        name = name.strip().lower()
        if not sep or name in fields:
            raise access_denied("Authorization header is malformed.")
        fields[name] = field_value.strip()
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise access_denied(f"Authorization header is malformed: missing {', '.join(missing)}.")
    if not fields["q-ak"] or not fields["q-signature"]:
        raise access_denied("Authorization header is malformed: empty q-ak or q-signature.")
    return fields


def _parse_window(value: str, field: str) -> tuple[int, int]:
    start, sep, end = value.partition(";")
    try:
        if not sep:
            raise ValueError(value)
        window = (int(start), int(end))
    except ValueError:
        raise access_denied(f"{field} must be '<start>;<end>' in unix seconds, got {value!r}.") from None
    if window[0] > window[1]:
        raise access_denied(f"{field} starts after it ends: {value!r}.")
    return window


def _check_window(window: tuple[int, int], now: float, skew_seconds: int, max_window_seconds: int) -> None:
    start, end = window
    if end - start > max_window_seconds:
        raise access_denied(
            f"The signature is valid for {end - start} s; the limit is {max_window_seconds} s."
        )
    if now < start - skew_seconds:
        raise CIError(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the server's time is too large.",
        )
    if now > end:
        raise access_denied("Request has expired")


def _names(listed: str) -> list[str]:
    # Deduplicated, in sorted order (the canonical order the strings are built in anyway).
    return sorted({name.lower() for name in listed.split(";") if name})


# ---------------------------------------------------------------------------------------------------
# Canonical strings


def _canonical_params(query: list[tuple[str, str]], names: list[str]) -> str:
    by_name: dict[str, list[str]] = {}
    for key, value in query:
        by_name.setdefault(_encode_name(key), []).append(_encode(value))
    pairs: list[tuple[str, str]] = []
    for name in names:
        values = by_name.get(name)
        if values is None:
            raise _missing("query parameter", name)
        # A repeated signed parameter: every value is signed, so none can be smuggled in unsigned.
        pairs.extend((name, value) for value in values)
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header_value_spellings(value: str) -> list[bytes | str]:
    try:
        wire = value.encode("latin-1")
    except UnicodeEncodeError:
        return [value]
    return [wire] if wire.isascii() else [wire, value]


def _host_spellings(value: str) -> list[str]:
    """Host as sent, then as PySDK signs it without an explicit Host: urlparse(url).hostname (no port)."""
    host, sep, port = value.rpartition(":")
    if not (sep and port.isdigit()):
        host = value
    elif ":" in host and not (host.startswith("[") and host.endswith("]")):
        host = value  # a bare IPv6 address, not host:port
    hostname = host.lower()
    if hostname.startswith("[") and hostname.endswith("]"):
        hostname = hostname[1:-1]
    return list(dict.fromkeys([value, host, hostname]))


def _canonical_headers(headers: Mapping[str, str], names: list[str]) -> Iterator[str]:
    """Every spelling of the signed headers the client might have signed (normally exactly one)."""
    by_name = {_encode_name(name): value for name, value in headers.items()}
    options: list[list[str]] = []
    for name in names:
        value = by_name.get(name)
        if value is None:
            raise _missing("header", name)
        spellings = _host_spellings(value) if name == "host" else [value]
        encoded = [_encode(raw) for text in spellings for raw in _header_value_spellings(text)]
        options.append(list(dict.fromkeys(encoded)))
    yield from _combine(names, options)


def _combine(names: list[str], options: list[list[str]]) -> Iterator[str]:
    if not names:
        yield ""
        return
    for tail in _combine(names[1:], options[1:]):
        for head in options[0]:
            item = f"{names[0]}={head}"
            yield f"{item}&{tail}" if tail else item


def _missing(kind: str, name: str) -> CIError:
    return CIError(403, "SignatureDoesNotMatch", f"The signed {kind} {name!r} is not in the request.")


def canonical_path(wire_path: str) -> str:
    """The path as the SDKs sign it: percent-decoded, always with a leading ``/``."""
    path = unquote(wire_path or "/", errors="strict")
    return path if path.startswith("/") else "/" + path


def http_string(method: str, path: str, params: str, headers: str) -> str:
    return f"{method.lower()}\n{path}\n{params}\n{headers}\n"


def string_to_sign(sign_time: str, format_string: str) -> str:
    digest = hashlib.sha1(format_string.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sign_time}\n{digest}\n"


def signature(secret_key: str, key_time: str, to_sign: str) -> str:
    sign_key = hmac.new(secret_key.encode("utf-8"), key_time.encode("utf-8"), hashlib.sha1).hexdigest()
    return hmac.new(sign_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).hexdigest()


# ---------------------------------------------------------------------------------------------------
# Verify / sign


def verify(
    request: SignedRequest,
    lookup_secret: Callable[[str], str | None],
    *,
    now: float,
    skew_seconds: int = 900,
    max_window_seconds: int = MAX_WINDOW_SECONDS,
) -> str:
    """Check the request's Authorization header; return the SecretId or raise a 403 :class:`CIError`."""
    fields = parse_authorization(authorization_of(request))
    if fields["q-sign-algorithm"].lower() != ALGORITHM:
        raise access_denied(
            f"Unsupported q-sign-algorithm {fields['q-sign-algorithm']!r}; only sha1 is supported."
        )
    sign_time, key_time = fields["q-sign-time"], fields["q-key-time"]
    # Both windows are checked: whichever of the two the client put in StringToSign, it is one we vetted.
    windows = [_parse_window(sign_time, "q-sign-time"), _parse_window(key_time, "q-key-time")]
    for window in windows:
        _check_window(window, now, skew_seconds, max_window_seconds)
    secret_id = fields["q-ak"]
    secret_key = lookup_secret(secret_id)
    if secret_key is None:
        raise CIError(
            403, "InvalidAccessKeyId", "The access key Id you provided does not exist in our records."
        )

    try:
        path = canonical_path(request.path)
    except UnicodeDecodeError:
        raise access_denied("The request path is not valid percent-encoded UTF-8.") from None
    params = _canonical_params(request.query, _names(fields["q-url-param-list"]))
    given = fields["q-signature"].lower().encode("ascii", "replace")
    # PySDK uses q-sign-time for both SignKey and StringToSign, GoSDK q-key-time for both.
    times = list(dict.fromkeys([sign_time, key_time]))
    first: tuple[str, str] | None = None
    for headers in _canonical_headers(request.headers, _names(fields["q-header-list"])):
        format_string = http_string(request.method, path, params, headers)
        for time_text in times:
            to_sign = string_to_sign(time_text, format_string)
            expected = signature(secret_key, time_text, to_sign).encode("ascii")
            if hmac.compare_digest(expected, given):
                return secret_id
            first = first or (to_sign, format_string)
    assert first is not None
    raise SignatureDoesNotMatch(*first)


def sign(
    request: SignedRequest,
    secret_id: str,
    secret_key: str,
    *,
    start: int,
    end: int,
    header_names: Iterable[str] | None = None,
    param_names: Iterable[str] | None = None,
) -> str:
    """Build an Authorization value for ``request``.

    By default it signs what PySDK signs: every query parameter and the headers of
    :data:`SDK_SIGNED_HEADERS` plus any ``x-cos-*`` / ``x-ci-*`` present in ``request.headers``.
    """
    if header_names is None:
        header_names = [name for name in request.headers if _sdk_signs(name)]
    if param_names is None:
        param_names = [key for key, _ in request.query]
    headers = sorted({_encode_name(name) for name in header_names})
    params = sorted({_encode_name(name) for name in param_names})
    by_name = {_encode_name(name): value for name, value in request.headers.items()}
    missing = [name for name in headers if name not in by_name]
    if missing:
        raise ValueError(f"headers to sign are not in the request: {missing}")
    header_text = "&".join(f"{name}={_encode(by_name[name])}" for name in headers)
    format_string = http_string(
        request.method, canonical_path(request.path), _canonical_params(request.query, params), header_text
    )
    sign_time = f"{start};{end}"
    signed = signature(secret_key, sign_time, string_to_sign(sign_time, format_string))
    return (
        f"q-sign-algorithm={ALGORITHM}&q-ak={secret_id}&q-sign-time={sign_time}&q-key-time={sign_time}"
        f"&q-header-list={';'.join(headers)}&q-url-param-list={';'.join(params)}&q-signature={signed}"
    )


def _sdk_signs(name: str) -> bool:
    lowered = name.lower()
    return lowered in SDK_SIGNED_HEADERS or lowered.startswith(_SIGNED_PREFIXES)


def authorization_of(request: SignedRequest) -> str:
    """The Authorization header, or for a presigned URL the ``q-*`` query fields put back together."""
    header = _header(request.headers, "authorization")
    if header.strip():
        return header
    fields = {key.lower(): value for key, value in request.query if key.lower() in _FIELDS}
    if "q-sign-algorithm" not in fields:
        return header
    return "&".join(f"{name}={fields[name]}" for name in _FIELDS if name in fields)


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""
