"""The HTTP app: request ids, Host -> bucket, signature check, routing, and error rendering.

Handlers are plain sync functions (they talk to SQLite/PostgreSQL and the disk); they run in the
thread pool. A submit is the exception: a coroutine that builds its jobs in the pool and awaits
their group commit on the loop (api/router.py). Nothing a handler raises reaches the client as a
traceback.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from typing import IO, Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from wanxiang.api import refusals, signature
from wanxiang.api.digest import check_content_md5
from wanxiang.api.host import parse_host
from wanxiang.api.ops_routes import SCOPE_KEY, AccessLog, ops_routes
from wanxiang.api.request import ApiRequest
from wanxiang.api.responses import error_response, storage_failure
from wanxiang.api.router import Router, call_handler
from wanxiang.config import Settings
from wanxiang.model.errors import CIError
from wanxiang.ops.health import Readiness

log = logging.getLogger("wanxiang.api")
SPOOL_IN_MEMORY = 8 << 20
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"]


def new_request_id() -> str:
    # 96 random bits in CI's shape (base64 of 24 hex digits). Unique, not secret: the random
    # module's generator (reseeded in forked children) spares a getrandom() call per request.
    return base64.b64encode(f"{random.getrandbits(96):024x}".encode()).decode()


def create_app(
    settings: Settings,
    router: Router,
    readiness: Readiness | None = None,
    depth: Callable[[], Any] | None = None,
) -> Starlette:
    async def dispatch(request: Request) -> Response:
        request_id = new_request_id()
        seen = request.scope[SCOPE_KEY] = {"request_id": request_id}  # for the access log
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path
        spooled: IO[bytes] | None = None
        try:
            api_request = _api_request(request, raw_path, request_id, settings)
            seen["bucket"] = api_request.bucket_id
            _authenticate(api_request, raw_path, settings)
            handler, args = router.resolve(
                request.method,
                api_request.path,
                query=api_request.query,
                headers=api_request.headers,
                ci_host=api_request.ci_host,
            )
            seen["family"] = router.family(api_request.path, handler)
            api_request.route_args = args
            if router.is_object_route(handler):
                refusals.check_object_request(api_request)
            body = _body_chunks(request, settings.body_timeout_seconds)
            if router.is_object_route(handler) and request.method in ("PUT", "POST"):
                spooled = await _spool_body(body, settings.max_object_bytes)
                api_request.body_file = spooled
            else:
                api_request.body = await _read_body(request, body, settings.max_body_bytes)
                check_content_md5(api_request.body, api_request.header("content-md5"))
            response = await call_handler(handler, api_request)
        except Exception as error:  # noqa: BLE001 - nothing reaches the client as a traceback
            response = _failure(error, request, request_id, seen)
        finally:
            if spooled is not None:
                spooled.close()
        response.headers["x-ci-request-id"] = request_id
        response.headers["x-cos-request-id"] = request_id
        response.headers["Server"] = "tencent-ci"
        response.raw_headers = [(_header_case(name), value) for name, value in response.raw_headers]
        return response

    no_depth: Callable[[], Any] = lambda: ({}, 0)  # noqa: E731
    return Starlette(
        routes=[
            *ops_routes(settings, readiness or Readiness(), depth or no_depth),
            Route("/{path:path}", dispatch, methods=METHODS),
        ],
        middleware=[Middleware(AccessLog, family=router.family)],
    )


def _failure(error: Exception, request: Request, request_id: str, seen: dict[str, str]) -> Response:
    """The CI error answering a request that failed with ``error``."""
    resource = request.url.path
    head = request.method == "HEAD"
    if isinstance(error, CIError):
        seen["code"] = error.code
        return error_response(error, resource=resource, request_id=request_id, head=head)
    if isinstance(error, ClientDisconnect):  # nobody is left to answer; not the server's fault
        seen["code"] = "IncompleteBody"
        log.debug("client went away during %s %s (request %s)", request.method, resource, request_id)
        failure = CIError(400, "IncompleteBody", "The client closed the connection before the whole body arrived.")
    elif isinstance(error, NotImplementedError):  # a backend's honest refusal of what it cannot do yet
        failure = CIError(501, "NotImplemented", str(error) or "This request is not implemented by wanxiang.")
    elif isinstance(error, OSError):  # storage faults (planted symlinks, a full disk) are CI errors too
        log.warning("storage error on %s %s (request %s): %r", request.method, resource, request_id, error)
        failure = storage_failure(error)
        seen["code"] = failure.code
    else:  # the client gets a CI error, the operator the traceback
        seen["code"] = "InternalError"
        log.error("unhandled error on %s %s (request %s)", request.method, resource, request_id, exc_info=error)
        failure = CIError(500, "InternalError", "We encountered an internal error. Please try again.")
    return error_response(failure, resource=resource, request_id=request_id, head=head)


_SPECIAL_CASE = {b"etag": b"ETag", b"content-md5": b"Content-MD5"}


def _header_case(name: bytes) -> bytes:
    """COS spells its headers ``ETag``, ``Content-Type``; SDK users index the returned header dict
    with those spellings, so the wire must carry them (x-cos-* and x-ci-* stay lower-case)."""
    if name in _SPECIAL_CASE:
        return _SPECIAL_CASE[name]
    if name.startswith((b"x-cos-", b"x-ci-")):
        return name
    return b"-".join(part[:1].upper() + part[1:] for part in name.split(b"-"))


def _api_request(request: Request, raw_path: str, request_id: str, settings: Settings) -> ApiRequest:
    host = request.headers.get("host", "")
    info = parse_host(host, suffixes=settings.domain_suffixes, default_bucket=settings.default_bucket)
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise CIError(400, "InvalidURI", "The request path is not valid percent-encoded UTF-8.") from None
    raw_query = request.scope.get("query_string", b"").decode()  # as Starlette's request.url.query
    query = parse_qsl(raw_query, keep_blank_values=True)
    return ApiRequest(
        method=request.method,
        path=path,
        query=query,
        headers={k.lower(): v for k, v in request.headers.items()},
        request_id=request_id,
        bucket_id=info.bucket_id,
        region=info.region or settings.region,
        raw_query=raw_query,
        ci_host=info.ci,
    )


def _authenticate(api_request: ApiRequest, raw_path: str, settings: Settings) -> None:
    signed = signature.SignedRequest(
        method=api_request.method, path=raw_path, query=api_request.query, headers=api_request.headers
    )
    secret_id = signature.verify(
        signed,
        settings.credentials.get,
        now=time.time(),
        skew_seconds=settings.clock_skew_seconds,
        max_window_seconds=settings.max_signature_seconds,
    )
    if secret_id in settings.read_only_ids and api_request.method not in ("GET", "HEAD"):
        raise CIError(403, "AccessDenied", f"The key {secret_id} is read-only (the keys file says so): it may only read.")


async def _body_chunks(request: Request, timeout: float) -> AsyncIterator[bytes]:
    """The body as it arrives; 408 ``RequestTimeout`` when no byte comes for ``timeout`` seconds
    (an idle limit, not a total one: a large upload on a slow link keeps going)."""
    chunks = request.stream().__aiter__()
    while True:
        try:
            # asyncio.timeout, not wait_for: no task is made per chunk (wait_for wraps each in one).
            async with asyncio.timeout(timeout):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise CIError(
                408, "RequestTimeout", f"No part of the request body arrived for {timeout:g} seconds."
            ) from None
        yield chunk


async def _read_body(request: Request, body: AsyncIterator[bytes], limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise CIError(400, "EntityTooLarge", f"The request body exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        size += len(chunk)
        if size > limit:
            raise CIError(400, "EntityTooLarge", f"The request body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _spool_body(body: AsyncIterator[bytes], limit: int) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by dispatch
    size = 0
    try:
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise CIError(400, "EntityTooLarge", f"The object exceeds {limit} bytes.")
            if size > SPOOL_IN_MEMORY:  # on disk now: keep the event loop free while it writes
                await run_in_threadpool(spool.write, chunk)
            else:
                spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


