"""A small HTTP client for a running wanxiang (or CI itself), signing requests as the official SDK does.

Where it points, and as whom, comes from flags, then the environment, then a config file
(``WANXIANG_CONFIG`` or ``~/.config/wanxiang/config.toml``), then the dev-mode defaults.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode, urlsplit

import httpx
from defusedxml.ElementTree import fromstring

from wanxiang.api.signature import SignedRequest, sign
from wanxiang.config import DEV_SECRET_ID, DEV_SECRET_KEY
from wanxiang.model.tree import Tree
from wanxiang.wire.xml import parse_request, render

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
DEFAULT_REGION = "ap-guangzhou"
SIGN_SECONDS = 600


class ApiError(Exception):
    """The server answered with a CI ``<Error>``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Unreachable(Exception):
    """No answer from the endpoint."""


@dataclass(frozen=True)
class Profile:
    endpoint: str = DEFAULT_ENDPOINT
    secret_id: str = DEV_SECRET_ID
    secret_key: str = DEV_SECRET_KEY
    bucket: str = ""
    region: str = DEFAULT_REGION


def config_path(env: Mapping[str, str]) -> Path:
    return Path(env.get("WANXIANG_CONFIG") or Path.home() / ".config" / "wanxiang" / "config.toml")


def resolve_profile(flags: Mapping[str, str | None], env: Mapping[str, str] | None = None) -> Profile:
    """Each field from its flag, else ``WANXIANG_<FIELD>``, else the config file, else the default."""
    env = os.environ if env is None else env
    path = config_path(env)
    file: dict[str, Any] = tomllib.loads(path.read_text()) if path.is_file() else {}
    values: dict[str, str] = {}
    for name in ("endpoint", "secret_id", "secret_key", "bucket", "region"):
        value = flags.get(name) or env.get(f"WANXIANG_{name.upper()}") or file.get(name)
        if value:
            values[name] = str(value)
    return Profile(**values)


def quote_key(key: str) -> str:
    return quote(key, safe="/-_.~")


@dataclass
class Client:
    profile: Profile
    timeout: float = 60.0

    def _host(self, bucket: str, *, ci: bool = False) -> str:
        """The bucket's CI host for CI calls (always routed as CI), its COS host for objects."""
        if bucket:
            return f"{bucket}.{'ci' if ci else 'cos'}.{self.profile.region}.myqcloud.com"
        return urlsplit(self.profile.endpoint).netloc

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | Path = b"",
        headers: Mapping[str, str] | None = None,
        bucket: str | None = None,
        ci: bool = False,
    ) -> httpx.Response:
        """Send one signed request; ``path`` is the wire path (already percent-encoded); ``ci``: a CI call."""
        bucket = self.profile.bucket if bucket is None else bucket
        query = [(k, v) for k, v in (params or {}).items()]
        all_headers = {"host": self._host(bucket, ci=ci), **{k.lower(): v for k, v in (headers or {}).items()}}
        size = body.stat().st_size if isinstance(body, Path) else len(body)
        if size:
            all_headers["content-length"] = str(size)
        now = int(time.time())
        all_headers["authorization"] = sign(
            SignedRequest(method, path, query, all_headers),
            self.profile.secret_id,
            self.profile.secret_key,
            start=now - 60,
            end=now + SIGN_SECONDS,
        )
        url = self.profile.endpoint.rstrip("/") + path + (("?" + urlencode(query)) if query else "")
        try:
            if isinstance(body, Path):  # streamed from the file, never whole in memory
                with body.open("rb") as stream:
                    response = httpx.request(method, url, content=_chunks(stream), headers=all_headers,
                                             timeout=self.timeout)
            else:
                response = httpx.request(method, url, content=body or None, headers=all_headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{self.profile.endpoint}: {exc}") from exc
        if response.status_code >= 400:
            raise _api_error(response)
        return response

    def download(self, path: str, target: BinaryIO, *, bucket: str | None = None) -> int:
        """GET an object into ``target`` chunk by chunk; the number of bytes written."""
        bucket = self.profile.bucket if bucket is None else bucket
        headers = {"host": self._host(bucket)}
        now = int(time.time())
        headers["authorization"] = sign(SignedRequest("GET", path, [], headers), self.profile.secret_id,
                                        self.profile.secret_key, start=now - 60, end=now + SIGN_SECONDS)
        written = 0
        try:
            with httpx.stream("GET", self.profile.endpoint.rstrip("/") + path, headers=headers,
                              timeout=self.timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _api_error(response)
                for chunk in response.iter_bytes():
                    target.write(chunk)
                    written += len(chunk)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{self.profile.endpoint}: {exc}") from exc
        return written

    def xml(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        request: Tree | None = None,
        bucket: str | None = None,
        ci: bool = True,
    ) -> Tree:
        """A CI call (``ci=False``: a COS call): an optional ``<Request>`` body, the response's tree back."""
        body = render("Request", request) if request is not None else b""
        headers = {"content-type": "application/xml"} if request is not None else {}
        response = self.request(method, path, params=params, body=body, headers=headers, bucket=bucket, ci=ci)
        return parse_tree(response.content)

    def presign(self, method: str, path: str, *, bucket: str | None = None, seconds: int = SIGN_SECONDS) -> str:
        """A URL anyone (curl) can use for ``seconds``: the signature rides in the query string."""
        bucket = self.profile.bucket if bucket is None else bucket
        headers = {"host": self._host(bucket)}
        now = int(time.time())
        auth = sign(
            SignedRequest(method, path, [], headers),
            self.profile.secret_id,
            self.profile.secret_key,
            start=now - 60,
            end=now + seconds,
        )
        return self.profile.endpoint.rstrip("/") + path + "?" + auth


def _chunks(stream: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def parse_tree(content: bytes) -> Tree:
    """A response body (``<Response>``, ``<ListBucketResult>``, ``<Error>``...) as a tree of its children."""
    if not content.strip():
        return {}
    try:
        name = fromstring(content.strip()).tag.rsplit("}", 1)[-1]
        return parse_request(content, root=name, max_bytes=64 << 20)
    except Exception:  # not XML: the caller sees an empty tree
        return {}


def _api_error(response: httpx.Response) -> ApiError:
    tree = parse_tree(response.content) if response.content.lstrip().startswith(b"<") else {}
    code = str(tree.get("Code") or f"HTTP{response.status_code}")
    message = str(tree.get("Message") or response.reason_phrase)
    return ApiError(response.status_code, code, message)
