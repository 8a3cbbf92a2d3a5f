"""What a live server does with clients that misbehave on the wire: downloads aborted halfway leave
no file open, a body that stops arriving gets 408 ``RequestTimeout``, broken HTTP framing gets a CI
``<Error>``, and none of it is logged as an unhandled error."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.raw import signed
from tests.support.server import REGION, SECRET_ID, SECRET_KEY, RunningServer, start_server
from wanxiang.api.signature import SignedRequest, sign
from wanxiang.wire.xml import parse_request

BUCKET = "wire-1250000000"
HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("wire") / "data", "--workers", "0", "--body-timeout", "1")
    try:
        yield running
    finally:
        running.stop()


def open_object_fds(server: RunningServer) -> list[str]:
    """Descriptors of the API process that point into the objects folder."""
    objects = str((server.data_dir / "objects").resolve())
    found = []
    fd_dir = Path(f"/proc/{server.process.pid}/fd")
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except FileNotFoundError:
            continue
        if target.startswith(objects + "/") and "/.tmp" not in target:
            found.append(target)
    return found


def authorization(method: str, path: str, headers: dict[str, str]) -> str:
    now = int(time.time())
    return sign(SignedRequest(method, path, [], headers), SECRET_ID, SECRET_KEY, start=now - 60, end=now + 600)


def raw_exchange(server: RunningServer, data: bytes, *, timeout: float = 10) -> bytes:
    """Send bytes as they are (the first 32 KiB, a pause, then the rest, so a large head arrives in
    pieces as it does on a real network); read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data[: 32 << 10])
        if data[32 << 10 :]:
            time.sleep(0.2)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it may hang up first
                sock.sendall(data[32 << 10 :])
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def status_and_body(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded = b""
        while body:
            size_line, _, rest = body.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            decoded, body = decoded + rest[:size], rest[size + 2 :]
        body = decoded
    return status, body


def assert_ci_error(response: bytes, status: int, code: str | None = None) -> None:
    got, body = status_and_body(response)
    assert got == status, response[:400]
    error = parse_request(body, root="Error")
    assert error["Code"] and error["Message"] and error["RequestId"]
    if code is not None:
        assert error["Code"] == code


def test_aborted_downloads_leave_no_file_open(server: RunningServer) -> None:
    assert signed(server, "PUT", "/big.bin", BUCKET, body=os.urandom(16 << 20)).status_code == 200
    headers = {"host": HOST}
    request = (
        f"GET /big.bin HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {authorization('GET', '/big.bin', headers)}\r\n\r\n"
    ).encode()
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        sock.sendall(request)
        sock.recv(65536)
        sock.close()
    deadline = time.monotonic() + 10
    while open_object_fds(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_object_fds(server) == []
    assert "Traceback" not in server.log()


def test_a_body_that_stops_arriving_gets_408_request_timeout(server: RunningServer) -> None:
    for path in ("/slow.txt", "/jobs"):
        method = "PUT" if path == "/slow.txt" else "POST"
        headers = {"host": HOST, "content-length": "100"}
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 100\r\n"
            f"Authorization: {authorization(method, path, headers)}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        response = raw_exchange(server, head + b"123456789", timeout=30)
        assert time.monotonic() - started < 20
        assert_ci_error(response, 408, "RequestTimeout")
    assert signed(server, "HEAD", "/slow.txt", BUCKET).status_code == 404


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"PUT /a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\nxyz", 400),
        (b"PUT /a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nxyz", 400),
        (b"PUT /a.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxyz\r\n0\r\n\r\n", 400),
        (b"GET /a.txt HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * (80 << 10) + b"\r\n\r\n", 431),
        (b"GET /a.txt HTTP/9.9 junk\r\n\r\n", 400),
    ],
    ids=["bad-content-length", "conflicting-lengths", "bad-chunk-size", "oversize-headers", "bad-request-line"],
)
def test_broken_http_framing_gets_a_ci_error(server: RunningServer, request_bytes: bytes, status: int) -> None:
    assert_ci_error(raw_exchange(server, request_bytes), status)
    assert "Traceback" not in server.log()


def test_client_disconnects_are_not_logged_as_errors(server: RunningServer) -> None:
    headers = {"host": HOST, "content-length": "1000000"}
    head = (
        f"PUT /gone.bin HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 1000000\r\n"
        f"Authorization: {authorization('PUT', '/gone.bin', headers)}\r\n\r\n"
    ).encode()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head + b"x" * 1000)
    assert signed(server, "GET", "/", BUCKET).status_code == 200  # the server is still answering
    time.sleep(0.5)
    log = server.log()
    assert "Traceback" not in log and "unhandled" not in log and "ERROR" not in log
    assert signed(server, "HEAD", "/gone.bin", BUCKET).status_code == 404
