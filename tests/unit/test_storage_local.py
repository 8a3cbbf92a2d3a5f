"""The local folder backend: real files, nothing escapes the data dir, writers never leave half objects."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wanxiang.storage.base import InvalidPart, NoSuchKey
from wanxiang.storage.keys import decode_segment, encode_segment, key_to_names
from wanxiang.storage.local import LocalStorage
from wanxiang.storage.registry import open_storage

BUCKET = "test-1250000000"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    opened = open_storage(f"local:{root}")
    assert isinstance(opened, LocalStorage)
    return opened


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"top secret")
    return folder


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_local_path_is_a_real_file_that_keeps_its_extension(storage: LocalStorage, root: Path) -> None:
    storage.put(BUCKET, "albums/2024/cat.jpg", b"jpeg bytes")
    path = storage.local_path(BUCKET, "albums/2024/cat.jpg")
    assert path is not None
    assert path.read_bytes() == b"jpeg bytes"
    assert path.suffix == ".jpg"
    assert path.resolve().is_relative_to(root.resolve() / BUCKET)
    assert storage.local_path(BUCKET, "albums/2024/dog.jpg") is None


def test_memory_backend_has_no_local_path() -> None:
    memory = open_storage("memory:")
    memory.put(BUCKET, "k.jpg", b"x")
    assert memory.local_path(BUCKET, "k.jpg") is None


def test_odd_keys_only_ever_create_files_inside_the_data_dir(
    storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    for key in ["..%2F..%2Fx", "%2e%2e/y", "a/..x/..y", "...", "a/.hidden", "..a"]:
        storage.put(BUCKET, key, b"ok")
        assert storage.local_path(BUCKET, key) is not None
    assert {p.name for p in tmp_path.iterdir()} == {"data"}
    assert sorted(o.key for o in storage.list(BUCKET).objects) == sorted(
        ["..%2F..%2Fx", "%2e%2e/y", "a/..x/..y", "...", "a/.hidden", "..a"]
    )


def test_a_symlinked_file_inside_the_bucket_is_not_followed(
    storage: LocalStorage, root: Path, outside: Path
) -> None:
    storage.put(BUCKET, "real.txt", b"mine")
    (root / BUCKET / "secret.txt").symlink_to(outside / "secret.txt")
    assert storage.head(BUCKET, "secret.txt") is None
    assert storage.local_path(BUCKET, "secret.txt") is None
    with pytest.raises(NoSuchKey):
        storage.open(BUCKET, "secret.txt")
    assert [o.key for o in storage.list(BUCKET).objects] == ["real.txt"]


def test_a_symlinked_folder_is_neither_read_nor_written_through(
    storage: LocalStorage, root: Path, outside: Path
) -> None:
    storage.create_bucket(BUCKET)
    dirs, _ = key_to_names("etc/secret.txt")
    (root / BUCKET / dirs[0]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(NoSuchKey):
        storage.open(BUCKET, "etc/secret.txt")
    assert storage.list(BUCKET, prefix="etc/").objects == []
    with pytest.raises(OSError):
        storage.put(BUCKET, "etc/planted.txt", b"evil")
    assert storage.delete(BUCKET, "etc/secret.txt") is False
    assert files_under(outside) == {outside / "secret.txt"}
    assert (outside / "secret.txt").read_bytes() == b"top secret"


def test_a_symlinked_bucket_is_not_a_bucket(storage: LocalStorage, root: Path, outside: Path) -> None:
    (root / "evil-1250000000").symlink_to(outside, target_is_directory=True)
    assert storage.bucket_exists("evil-1250000000") is False
    assert "evil-1250000000" not in storage.list_buckets()
    assert storage.head("evil-1250000000", "secret.txt") is None
    assert storage.list("evil-1250000000").objects == []
    with pytest.raises(OSError):
        storage.put("evil-1250000000", "new.txt", b"evil")
    assert files_under(outside) == {outside / "secret.txt"}


def test_stray_files_in_the_bucket_folder_are_not_listed(storage: LocalStorage, root: Path) -> None:
    storage.put(BUCKET, "kept.txt", b"1")
    (root / BUCKET / "half%upload").write_bytes(b"?")
    assert [o.key for o in storage.list(BUCKET).objects] == ["kept.txt"]


def test_an_object_whose_sidecar_was_lost_still_has_size_and_etag(storage: LocalStorage, root: Path) -> None:
    storage.put(BUCKET, "k.bin", b"payload", content_type="text/plain")
    for sidecar in (root / ".meta").rglob("*.json"):
        sidecar.unlink()
    head = storage.head(BUCKET, "k.bin")
    assert head is not None
    assert (head.size, head.etag) == (7, f'"{hashlib.md5(b"payload").hexdigest()}"')


def test_concurrent_puts_of_one_key_leave_one_whole_object(storage: LocalStorage) -> None:
    payloads = [bytes([n]) * (512 * 1024 + n) for n in range(6)]
    seen_while_writing: list[bytes] = []
    stop = threading.Event()

    def writer(body: bytes) -> None:
        for _ in range(3):
            storage.put(BUCKET, "hot.bin", body)

    def reader() -> None:
        while not stop.is_set():
            try:
                with storage.open(BUCKET, "hot.bin") as handle:
                    seen_while_writing.append(handle.read())
            except NoSuchKey:
                pass

    watcher = threading.Thread(target=reader)
    watcher.start()
    threads = [threading.Thread(target=writer, args=(body,)) for body in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()

    with storage.open(BUCKET, "hot.bin") as handle:
        final = handle.read()
    assert final in payloads
    head = storage.head(BUCKET, "hot.bin")
    assert head is not None and head.etag == f'"{hashlib.md5(final).hexdigest()}"' and head.size == len(final)
    assert all(body in payloads for body in seen_while_writing)
    assert os.listdir(storage.root / ".tmp") == []


def test_deleting_the_last_key_of_a_folder_removes_its_directories(storage: LocalStorage, root: Path) -> None:
    storage.put(BUCKET, "x/y/z.txt", b"1")
    storage.delete(BUCKET, "x/y/z.txt")
    assert list((root / BUCKET).iterdir()) == []
    assert list((root / ".meta" / BUCKET).iterdir()) == []
    assert storage.bucket_exists(BUCKET)


@pytest.mark.parametrize("segment", ["", "%", "%2F", "%25", "a%b", "tab\t", "é+?#, ", "%%"])
def test_every_segment_spelling_decodes_back_to_itself(segment: str) -> None:
    assert decode_segment(encode_segment(segment)) == segment


def test_multipart_parts_live_on_disk_and_survive_a_restart(storage: LocalStorage, root: Path) -> None:
    upload = storage.create_multipart_upload(BUCKET, "clip.mp4", content_type="video/mp4")
    first = storage.upload_part(BUCKET, "clip.mp4", upload.upload_id, 1, b"a" * (1 << 20))
    part_files = [p for p in (root / ".uploads" / upload.upload_id).iterdir() if p.name != "upload.json"]
    assert [p.stat().st_size for p in part_files] == [1 << 20]
    restarted = LocalStorage(root)  # a new process on the same data dir
    second = restarted.upload_part(BUCKET, "clip.mp4", upload.upload_id, 2, b"b")
    restarted.complete_multipart_upload(BUCKET, "clip.mp4", upload.upload_id, [(1, first.etag), (2, second.etag)])
    with restarted.open(BUCKET, "clip.mp4") as body:
        assert body.read() == b"a" * (1 << 20) + b"b"
    assert not (root / ".uploads" / upload.upload_id).exists()
    assert os.listdir(root / ".tmp") == []


def test_a_key_with_backslashes_stays_inside_the_bucket(storage: LocalStorage, root: Path) -> None:
    storage.put(BUCKET, "..\\..\\escape", b"x")
    storage.put(BUCKET, "dir\\file", b"y")
    assert sorted(os.listdir(root / BUCKET)) == ["..\\..\\escape", "dir\\file"]
    assert not (root.parent / "escape").exists()


def test_a_symlink_planted_in_the_uploads_folder_is_never_followed(storage: LocalStorage, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"keep me")
    upload = storage.create_multipart_upload(BUCKET, "k")
    folder = root / ".uploads" / upload.upload_id
    first = storage.upload_part(BUCKET, "k", upload.upload_id, 1, b"part")
    # An attacker swaps the part file for a link to a file elsewhere, and plants a linked upload folder.
    part_file = next(p for p in folder.iterdir() if p.name != "upload.json")
    part_file.unlink()
    part_file.symlink_to(outside / "victim.txt")
    fake_id = "f" * 32
    (root / ".uploads" / fake_id).symlink_to(outside)
    assert storage.list_parts(BUCKET, "k", upload.upload_id) == []  # the link is not a part
    with pytest.raises(InvalidPart):
        storage.complete_multipart_upload(BUCKET, "k", upload.upload_id, [(1, first.etag)])
    storage.expire_multipart_uploads(datetime.now(UTC) + timedelta(days=1))
    assert (outside / "victim.txt").read_bytes() == b"keep me"
    assert storage.list_multipart_uploads(BUCKET) == []
