"""Image processing the ways COS users do it: templates, on download, on upload, and bad images."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import pyvips
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_pic_jobs import getter, submit
from tests.support.images import marker_png, pixel, size
from tests.support.jobs import wait_for_state
from tests.support.raw import signed
from tests.support.server import REGION, RunningServer
from wanxiang.services.pic_processing import INLINE_RESULT_BYTES


def huge_png_header(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny file whose PNG header claims 50,000 x 50,000 pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_template_job_uses_the_template_rule_and_echoes_its_name(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(400, 200), Key="a.png")
    created = cos.ci_create_template(Bucket=bucket, Template={
        "Tag": "PicProcess", "Name": "half-size",
        "PicProcess": {"IsPicInfo": "false", "ProcessRule": "imageMogr2/thumbnail/!50p"}})
    template = created["Template"]
    assert template["Name"] == "half-size" and template["PicProcess"]["ProcessRule"] == "imageMogr2/thumbnail/!50p"
    template_id = template["TemplateId"]
    listed = cos.ci_get_template(Bucket=bucket, Ids=template_id)
    assert listed["TemplateList"][0]["TemplateId"] == template_id
    job = {"Tag": "PicProcess", "Input": {"Object": "a.png"},
           "Operation": {"TemplateId": template_id, "Output": {"Region": REGION, "Bucket": bucket, "Object": "half.png"}}}
    job_id = submit(cos, bucket, job)
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    assert detail["Operation"]["TemplateName"] == "half-size"
    body = cos.get_object(Bucket=bucket, Key="half.png")["Body"].get_raw_stream().read()
    assert size(body) == (200, 100)
    updated = cos.ci_update_template(Bucket=bucket, TemplateId=template_id, Template={
        "Tag": "PicProcess", "Name": "quarter", "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/!25p"}})
    assert updated["Template"]["Name"] == "quarter"
    cos.ci_delete_template(Bucket=bucket, TemplateId=template_id)
    with pytest.raises(CosServiceError) as caught:
        cos.ci_create_media_pic_jobs(Bucket=bucket, Jobs=job, Lst={})
    assert caught.value.get_status_code() == 400 and template_id in caught.value.get_error_msg()


def test_download_with_a_rule_returns_the_processed_image(cos: Any, bucket: str, tmp_path: Path) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="dir/a.png")
    target = tmp_path / "out.webp"
    cos.ci_get_object(Bucket=bucket, Key="dir/a.png", DestImagePath=str(target),
                      Rule="imageMogr2/rotate/90|imageMogr2/format/webp")
    data = target.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert size(data) == (100, 200)
    assert pixel(data, 95, 5)[0] > 150
    _, raw = cos.ci_get_image_info(Bucket=bucket, Key="dir/a.png")
    info = json.loads(raw)
    assert info["width"] == "200" and info["height"] == "100" and info["format"] == "png"


def test_a_processed_download_larger_than_an_inline_answer_arrives_whole(
    cos: Any, bucket: str, tmp_path: Path
) -> None:
    # Noise does not compress: the rotated PNG is far above what a pool child answers inline, so
    # it comes back through a file.
    noise = pyvips.Image.gaussnoise(900, 600, sigma=60).bandjoin(
        [pyvips.Image.gaussnoise(900, 600, sigma=60, seed=seed) for seed in (1, 2)]
    ).cast("uchar")
    original = bytes(noise.pngsave_buffer(compression=1))
    cos.put_object(Bucket=bucket, Body=original, Key="noise.png")
    target = tmp_path / "turned.png"
    cos.ci_get_object(Bucket=bucket, Key="noise.png", DestImagePath=str(target), Rule="imageMogr2/rotate/90")
    data = target.read_bytes()
    assert len(data) > INLINE_RESULT_BYTES
    turned = pyvips.Image.new_from_buffer(data, "")
    assert (turned.width, turned.height) == (600, 900)
    assert (turned - noise.rot90()).abs().max() == 0  # every pixel, none lost on the way


def test_download_with_a_bad_rule_is_a_400_and_plain_download_still_works(cos: Any, bucket: str, tmp_path: Path) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    with pytest.raises(CosServiceError) as caught:
        cos.ci_get_object(Bucket=bucket, Key="a.png", DestImagePath=str(tmp_path / "x"), Rule="imageMogr2/spin/3")
    assert caught.value.get_status_code() == 400 and "spin" in caught.value.get_error_msg()
    body = cos.get_object(Bucket=bucket, Key="a.png")["Body"].get_raw_stream().read()
    assert body == marker_png()


def test_upload_with_pic_operations_stores_the_original_and_each_result(cos: Any, bucket: str) -> None:
    operations = json.dumps({"is_pic_info": 1, "rules": [
        {"fileid": "small.png", "rule": "imageMogr2/thumbnail/50x"},
        {"fileid": "/rotated/a.jpg", "rule": "imageMogr2/rotate/90/format/jpg"}]})
    headers, result = cos.ci_put_object(Bucket=bucket, Body=marker_png(200, 100), Key="up/a.png", PicOperations=operations)
    assert result["OriginalInfo"]["Key"] == "up/a.png"
    assert result["OriginalInfo"]["ImageInfo"]["Width"] == "200"
    objects = result["ProcessResults"]["Object"]
    assert [o["Key"] for o in objects] == ["up/small.png", "rotated/a.jpg"]
    assert size(cos.get_object(Bucket=bucket, Key="up/small.png")["Body"].get_raw_stream().read()) == (50, 25)
    rotated = cos.get_object(Bucket=bucket, Key="rotated/a.jpg")["Body"].get_raw_stream().read()
    assert rotated[:3] == b"\xff\xd8\xff" and size(rotated) == (100, 200)
    assert cos.get_object(Bucket=bucket, Key="up/a.png")["Body"].get_raw_stream().read() == marker_png(200, 100)


def test_image_process_on_a_stored_object(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="a.png")
    headers, result = cos.ci_image_process(Bucket=bucket, Key="a.png", PicOperations=json.dumps(
        {"is_pic_info": 0, "rules": [{"fileid": "g.png", "rule": "imageMogr2/grayscale/1"}]}))
    assert result["ProcessResults"]["Object"]["Key"] == "g.png"
    grey = cos.get_object(Bucket=bucket, Key="g.png")["Body"].get_raw_stream().read()
    r, g, b = pixel(grey, 5, 5)[:3] if len(pixel(grey, 5, 5)) >= 3 else pixel(grey, 5, 5) * 3
    assert r == g == b


def test_a_bad_pic_operations_header_stores_nothing(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=b"x", Key="keep")
    with pytest.raises(CosServiceError) as caught:
        cos.ci_put_object(Bucket=bucket, Body=marker_png(), Key="bad.png",
                          PicOperations=json.dumps({"rules": [{"fileid": "o.png", "rule": "imageMogr2/wobble/1"}]}))
    assert caught.value.get_status_code() == 400 and "wobble" in caught.value.get_error_msg()
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="bad.png")


def test_bomb_and_truncated_images_fail_quickly_and_the_next_job_succeeds(cos: Any, bucket: str) -> None:
    jpeg = __import__("pyvips").Image.black(300, 300, bands=3).write_to_buffer(".jpg")
    cos.put_object(Bucket=bucket, Body=huge_png_header(), Key="bomb.png")
    cos.put_object(Bucket=bucket, Body=jpeg[: len(jpeg) // 3], Key="cut.jpg")
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="fine.png")

    def job(key: str) -> dict[str, Any]:
        return {"Tag": "PicProcess", "Input": {"Object": key}, "Operation": {
            "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/100x"},
            "Output": {"Region": REGION, "Bucket": bucket, "Object": "out-" + key}}}

    bomb = wait_for_state(getter(cos, bucket), submit(cos, bucket, job("bomb.png")), timeout=30)
    assert bomb["State"] == "Failed" and bomb["Code"] == "ImageTooLarge", bomb
    cut = wait_for_state(getter(cos, bucket), submit(cos, bucket, job("cut.jpg")), timeout=30)
    assert cut["State"] == "Failed" and cut["Code"] in ("ImageDecodeError", "InvalidImage"), cut
    fine = wait_for_state(getter(cos, bucket), submit(cos, bucket, job("fine.png")), timeout=30)
    assert fine["State"] == "Success"


def test_a_processed_download_carries_an_etag_a_cdn_can_revalidate_and_follows_the_object(
    server: RunningServer, cos: Any, bucket: str, tmp_path: Path
) -> None:
    rule = "imageMogr2/thumbnail/50x/format/png"
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="c.png")
    first = cos.ci_get_object(Bucket=bucket, Key="c.png", DestImagePath=str(tmp_path / "1.png"), Rule=rule)
    again = cos.ci_get_object(Bucket=bucket, Key="c.png", DestImagePath=str(tmp_path / "2.png"), Rule=rule)
    assert first["ETag"] == again["ETag"] and "max-age" in first["Cache-Control"]
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()
    assert size((tmp_path / "1.png").read_bytes()) == (50, 25)
    # The SDK cannot stream a 304 to a file, so look at the wire.
    revalidated = signed(server, "GET", "/c.png", bucket, params={rule: ""}, headers={"If-None-Match": first["ETag"]})
    assert (revalidated.status_code, revalidated.content, revalidated.headers["ETag"]) == (304, b"", first["ETag"])

    cos.put_object(Bucket=bucket, Body=marker_png(400, 100), Key="c.png")  # overwritten: a new result
    after = cos.ci_get_object(Bucket=bucket, Key="c.png", DestImagePath=str(tmp_path / "4.png"), Rule=rule)
    assert after["ETag"] != first["ETag"]
    width, height = size((tmp_path / "4.png").read_bytes())
    assert width == 50 and height in (12, 13)  # the new 4:1 object, not the cached 2:1 result
