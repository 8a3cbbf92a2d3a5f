"""What a running job reads and writes through the local storage stays inside the data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from wanxiang.model.errors import JobFailure
from wanxiang.storage.keys import key_to_names
from wanxiang.storage.registry import open_storage
from wanxiang.worker.jobio import StorageJobIO

BUCKET = "jobs-1250000000"


def job_io(storage: object, key: str) -> StorageJobIO:
    return StorageJobIO(storage, BUCKET, "ap-guangzhou", key, {}, lambda _: None)  # type: ignore[arg-type]


def test_the_input_is_the_file_the_storage_opened_even_if_a_symlink_replaces_it(tmp_path: Path) -> None:
    storage = open_storage(f"local:{tmp_path / 'data'}")
    storage.put(BUCKET, "in/photo.jpg", b"the real input")
    (tmp_path / "secret").write_bytes(b"outside the data dir")
    io = job_io(storage, "in/photo.jpg")
    path = io.input_path()
    dirs, name = key_to_names("in/photo.jpg")
    planted = tmp_path / "data" / BUCKET / dirs[0] / name
    planted.unlink()
    planted.symlink_to(tmp_path / "secret")
    assert path.read_bytes() == b"the real input"
    assert io.input_path() == path
    io.close()


def test_an_output_under_a_planted_symlink_fails_the_job_with_a_code(tmp_path: Path) -> None:
    storage = open_storage(f"local:{tmp_path / 'data'}")
    storage.create_bucket(BUCKET)
    (tmp_path / "outside").mkdir()
    dirs, _ = key_to_names("out/x.jpg")
    (tmp_path / "data" / BUCKET / dirs[0]).symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(JobFailure) as caught:
        job_io(storage, "in.jpg").write_object("out/x.jpg", b"result", "image/jpeg")
    assert caught.value.code == "OutputStoreFailed"
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_missing_input_is_input_object_not_exist(tmp_path: Path) -> None:
    storage = open_storage(f"local:{tmp_path / 'data'}")
    with pytest.raises(JobFailure) as caught:
        job_io(storage, "nope.jpg").input_path()
    assert caught.value.code == "InputObjectNotExist"


def test_an_abandoned_job_stores_nothing_more(tmp_path: Path) -> None:
    storage = open_storage(f"local:{tmp_path / 'data'}")
    io = job_io(storage, "in.jpg")
    io.abandon()
    with pytest.raises(JobFailure) as caught:
        io.write_object("out/late.jpg", b"too late", "image/jpeg")
    assert caught.value.code == "JobTimeout"
    assert storage.head(BUCKET, "out/late.jpg") is None
