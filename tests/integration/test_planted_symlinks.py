"""Symlinks planted inside the data dir (at the temp folder, the metadata folder, an old lock file, a
bucket, a key's folder, an object) are never followed by a live server: nothing outside the data
dir is created, read, changed or deleted (a snapshot of everything around it proves it), and every
refusal is a CI ``<Error>``, never a 500."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.raw import signed
from tests.support.server import RunningServer, start_server
from wanxiang.storage.keys import key_to_names
from wanxiang.wire.xml import parse_request

BUCKET = "planted-1250000000"


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("around")


@pytest.fixture(scope="module")
def server(area: Path) -> Iterator[RunningServer]:
    running = start_server(area / "data", "--workers", "0")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def outside(area: Path) -> Path:
    folder = area / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_bytes(b"top secret")
    return folder


@pytest.fixture
def objects(server: RunningServer) -> Path:
    return server.data_dir / "objects"


def snapshot(area: Path, data_dir: Path) -> dict[str, tuple[str, str]]:
    """Every entry around the data dir: kind and content digest (or link target)."""
    seen: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(area):
        here = Path(dirpath)
        if here == data_dir:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if path == data_dir:
                continue
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                seen[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                seen[str(path)] = ("dir", "")
    return seen


def assert_ci_error(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    error = parse_request(response.content, root="Error")  # type: ignore[attr-defined]
    assert error["Code"] and error["Message"] and error["RequestId"]
    assert b"Traceback" not in response.content  # type: ignore[attr-defined]


def test_dangling_symlink_at_the_old_lock_file_creates_nothing_outside(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    (objects / ".lock").unlink(missing_ok=True)
    (objects / ".lock").symlink_to(outside / "created-by-lock")
    before = snapshot(area, server.data_dir)
    assert signed(server, "PUT", "/lock/a.txt", BUCKET, body=b"hello").status_code == 200
    assert signed(server, "HEAD", "/lock/a.txt", BUCKET).status_code == 200
    assert signed(server, "GET", "/lock/a.txt", BUCKET).content == b"hello"
    assert signed(server, "DELETE", "/lock/a.txt", BUCKET).status_code == 204
    assert snapshot(area, server.data_dir) == before
    assert not (outside / "created-by-lock").exists()


def test_symlinked_temp_folder_refuses_uploads_and_keeps_them_inside(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    tmp = objects / ".tmp"
    tmp.rename(objects / ".tmp-real")
    tmp.symlink_to(outside, target_is_directory=True)
    try:
        before = snapshot(area, server.data_dir)
        response = signed(server, "PUT", "/big.bin", BUCKET, body=os.urandom(4 << 20))
        assert_ci_error(response, 403)
        assert snapshot(area, server.data_dir) == before
        assert signed(server, "HEAD", "/big.bin", BUCKET).status_code == 404
    finally:
        tmp.unlink()
        (objects / ".tmp-real").rename(tmp)
    assert signed(server, "PUT", "/big.bin", BUCKET, body=b"after").status_code == 200


def test_symlinked_metadata_folder_is_neither_read_written_nor_deleted_through(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    assert signed(server, "PUT", "/doc.txt", BUCKET, body=b"doc", headers={"Content-Type": "text/plain"}).status_code == 200
    # A sidecar the attacker controls, where the link leads.
    (outside / BUCKET).mkdir(exist_ok=True)
    (outside / BUCKET / "doc.txt.json").write_text(
        '{"size": 3, "etag": "\\"evil\\"", "content_type": "text/evil", "last_modified": "2020-01-01T00:00:00+00:00", "meta": {}}'
    )
    meta = objects / ".meta"
    meta.rename(objects / ".meta-real")
    meta.symlink_to(outside, target_is_directory=True)
    try:
        before = snapshot(area, server.data_dir)
        head = signed(server, "HEAD", "/doc.txt", BUCKET)
        assert head.status_code == 200
        assert head.headers["Content-Type"] != "text/evil"
        assert head.headers["ETag"] == '"' + hashlib.md5(b"doc").hexdigest() + '"'
        assert_ci_error(signed(server, "PUT", "/doc.txt", BUCKET, body=b"new"), 403)
        assert signed(server, "DELETE", "/doc.txt", BUCKET).status_code == 204
        listing = signed(server, "GET", "/", BUCKET)
        assert listing.status_code == 200
        assert snapshot(area, server.data_dir) == before
    finally:
        meta.unlink()
        (objects / ".meta-real").rename(meta)


def test_a_bucket_that_is_a_symlink_is_not_a_bucket(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    evil = "evil-1250000000"
    (objects / evil).symlink_to(outside, target_is_directory=True)
    before = snapshot(area, server.data_dir)
    assert_ci_error(signed(server, "GET", "/secret.txt", evil), 404)
    assert_ci_error(signed(server, "GET", "/", evil), 404)
    assert_ci_error(signed(server, "PUT", "/planted.txt", evil, body=b"evil"), 403)
    assert_ci_error(signed(server, "PUT", "/", evil), 403)
    assert signed(server, "DELETE", "/secret.txt", evil).status_code == 204
    assert snapshot(area, server.data_dir) == before
    assert (outside / "secret.txt").read_bytes() == b"top secret"


def test_a_key_folder_that_is_a_symlink_is_neither_read_written_nor_deleted_through(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    assert signed(server, "PUT", "/real.txt", BUCKET, body=b"mine").status_code == 200
    dirs, _ = key_to_names("etc/secret.txt")
    (objects / BUCKET / dirs[0]).symlink_to(outside, target_is_directory=True)
    before = snapshot(area, server.data_dir)
    assert_ci_error(signed(server, "GET", "/etc/secret.txt", BUCKET), 404)
    assert signed(server, "HEAD", "/etc/secret.txt", BUCKET).status_code == 404
    assert_ci_error(signed(server, "PUT", "/etc/planted.txt", BUCKET, body=b"evil"), 403)
    assert_ci_error(signed(server, "PUT", "/etc/deeper/planted.txt", BUCKET, body=b"evil"), 403)
    assert signed(server, "DELETE", "/etc/secret.txt", BUCKET).status_code == 204
    listing = signed(server, "GET", "/", BUCKET, params={"prefix": "etc/"})
    assert listing.status_code == 200 and b"secret" not in listing.content
    assert snapshot(area, server.data_dir) == before


def test_an_object_that_is_a_symlink_reads_as_missing_and_is_left_alone(
    server: RunningServer, area: Path, objects: Path, outside: Path
) -> None:
    signed(server, "PUT", "/", BUCKET)
    (objects / BUCKET / "leak.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(objects / BUCKET / "fifo.txt")
    before = snapshot(area, server.data_dir)
    assert_ci_error(signed(server, "GET", "/leak.txt", BUCKET), 404)
    assert_ci_error(signed(server, "GET", "/fifo.txt", BUCKET), 404)  # a FIFO must not hang the server
    assert signed(server, "DELETE", "/leak.txt", BUCKET).status_code == 204
    assert (objects / BUCKET / "leak.txt").is_symlink()
    # Overwriting replaces the link itself; the file it pointed to is untouched.
    assert signed(server, "PUT", "/leak.txt", BUCKET, body=b"replaced").status_code == 200
    assert not (objects / BUCKET / "leak.txt").is_symlink()
    assert snapshot(area, server.data_dir) == before
