"""Unfinished multipart uploads older than the configured age are swept when uploads start."""

from __future__ import annotations

from pathlib import Path

from wanxiang.api.object_multipart import MultipartApi
from wanxiang.api.request import ApiRequest
from wanxiang.storage.registry import open_storage

BUCKET = "test-1250000000"


def initiate(api: MultipartApi, key: str) -> None:
    request = ApiRequest("POST", f"/{key}", [("uploads", "")], {}, "req", BUCKET, "ap-guangzhou")
    assert api.initiate(request, key).status_code == 200


def test_an_initiate_sweeps_uploads_past_their_age(tmp_path: Path) -> None:
    storage = open_storage(f"local:{tmp_path}")
    abandoned = storage.create_multipart_upload(BUCKET, "abandoned.bin")
    storage.upload_part(BUCKET, "abandoned.bin", abandoned.upload_id, 1, b"x" * 100)
    keeping = MultipartApi(storage, expiry_seconds=3600)
    initiate(keeping, "fresh.bin")
    assert {u.key for u in storage.list_multipart_uploads(BUCKET)} == {"abandoned.bin", "fresh.bin"}
    sweeping = MultipartApi(storage, expiry_seconds=0)
    initiate(sweeping, "newest.bin")
    assert [u.key for u in storage.list_multipart_uploads(BUCKET)] == ["newest.bin"]
    assert sorted(p.name for p in (tmp_path / ".uploads").iterdir()) == [storage.list_multipart_uploads(BUCKET)[0].upload_id]
