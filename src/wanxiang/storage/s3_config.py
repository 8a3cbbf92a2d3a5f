"""Where an S3-compatible backend lives, parsed once from ``s3://<backing-bucket>[/<prefix>]?<options>``.

Layout: one backing bucket holds every wanxiang bucket, each under ``<prefix>/<wanxiang-bucket>/``,
so the object ``photos-1250000000/cats/1.jpg`` is ``s3://media/wx/photos-1250000000/cats/1.jpg`` for
``s3://media/wx``. One backing bucket needs one set of permissions and no bucket-creation rights,
and a wanxiang bucket is a cheap prefix (bucket names are global on AWS and COS; prefixes are not).

Options (all optional): ``endpoint`` (``http://127.0.0.1:8333``; none means AWS), ``region``
(else ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else ``us-east-1``), ``style=path|virtual`` (path
when an endpoint is given, else virtual), ``access_key`` + ``secret_key`` (else the standard AWS
variables and files), ``part_size`` and ``multipart_threshold`` in MB (16 and 128), ``create=1``
(create the backing bucket if missing; for test and dev servers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

MB = 1 << 20
MIN_PART_SIZE = 5 * MB  # the S3 minimum for every part but the last
_OPTIONS = {"endpoint", "region", "style", "access_key", "secret_key", "part_size", "multipart_threshold", "create"}


@dataclass(frozen=True)
class S3Config:
    backing_bucket: str
    prefix: str  # "" or ends with "/"
    endpoint: str | None
    region: str
    addressing_style: str  # "path" or "virtual"
    access_key: str | None
    secret_key: str | None
    part_size: int
    multipart_threshold: int
    create_backing_bucket: bool

    def __repr__(self) -> str:  # never print the secret
        return f"S3Config(s3://{self.backing_bucket}/{self.prefix}, endpoint={self.endpoint!r}, region={self.region!r})"


def parse_s3_url(url: str) -> S3Config:
    """``url`` is the whole ``s3://...`` text, or what follows ``s3:``."""
    text = url if url.startswith("s3:") else "s3:" + url
    parts = urlsplit(text)
    if not parts.netloc:
        raise ValueError("an S3 storage URL names its backing bucket: s3://<bucket>[/<prefix>]?endpoint=...")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(f"unknown S3 storage options {sorted(unknown)}; known: {sorted(_OPTIONS)}")
    endpoint = options.get("endpoint") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ValueError(f"the S3 endpoint must be an http(s) URL, not {endpoint!r}")
    style = options.get("style") or ("path" if endpoint else "virtual")
    if style not in ("path", "virtual"):
        raise ValueError(f"style must be 'path' or 'virtual', not {style!r}")
    access_key, secret_key = options.get("access_key") or None, options.get("secret_key") or None
    if (access_key is None) != (secret_key is None):
        raise ValueError("give both access_key and secret_key, or neither (then the AWS variables are used)")
    part_size = _megabytes(options, "part_size", 16)
    threshold = _megabytes(options, "multipart_threshold", 128)
    if part_size < MIN_PART_SIZE:
        raise ValueError("part_size must be at least 5 (MB), the S3 minimum")
    prefix = parts.path.strip("/")
    region = options.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return S3Config(
        backing_bucket=parts.netloc,
        prefix=prefix + "/" if prefix else "",
        endpoint=endpoint,
        region=region or "us-east-1",
        addressing_style=style,
        access_key=access_key,
        secret_key=secret_key,
        part_size=part_size,
        multipart_threshold=max(threshold, part_size),
        create_backing_bucket=options.get("create", "") in ("1", "true", "yes"),
    )


def _megabytes(options: dict[str, str], name: str, default: int) -> int:
    raw = options.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} is a whole number of MB, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value * MB
