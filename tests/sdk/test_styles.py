"""Image styles through the official SDK: add, list, delete, and use them wherever rules go."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from qcloud_cos.cos_exception import CosServiceError

from tests.sdk.test_pic_jobs import getter, pic_job, submit
from tests.support.images import marker_png, pixel, size
from tests.support.jobs import wait_for_state
from tests.support.raw import signed
from tests.support.server import RunningServer
from wanxiang.model.tree import as_list


def add_style(cos: Any, bucket: str, name: str, body: str) -> None:
    cos.ci_put_image_style(Bucket=bucket, Request={"StyleName": name, "StyleBody": body})


def styles_of(cos: Any, bucket: str, name: str = "") -> dict[str, str]:
    _, data = cos.ci_get_image_style(Bucket=bucket, Request={"StyleName": name} if name else {})
    return {rule["StyleName"]: rule["StyleBody"] for rule in as_list((data or {}).get("StyleRule"))}


def test_styles_are_added_listed_filtered_replaced_and_deleted(cos: Any, bucket: str) -> None:
    add_style(cos, bucket, "thumb", "imageMogr2/thumbnail/50x")
    add_style(cos, bucket, "gray.v2", "imageMogr2/grayscale/1")
    assert styles_of(cos, bucket) == {"thumb": "imageMogr2/thumbnail/50x", "gray.v2": "imageMogr2/grayscale/1"}
    assert styles_of(cos, bucket, "gray.v2") == {"gray.v2": "imageMogr2/grayscale/1"}

    add_style(cos, bucket, "thumb", "imageMogr2/thumbnail/80x")
    assert styles_of(cos, bucket, "thumb") == {"thumb": "imageMogr2/thumbnail/80x"}

    cos.ci_delete_image_style(Bucket=bucket, Request={"StyleName": "thumb"})
    assert styles_of(cos, bucket) == {"gray.v2": "imageMogr2/grayscale/1"}


def test_a_download_with_a_style_rule_applies_the_style(cos: Any, bucket: str, tmp_path: Path) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="a.png")
    add_style(cos, bucket, "turn", "imageMogr2/rotate/90|imageMogr2/format/jpg")
    target = tmp_path / "out"
    cos.ci_get_object(Bucket=bucket, Key="a.png", DestImagePath=str(target), Rule="style/turn")
    data = target.read_bytes()
    assert data[:3] == b"\xff\xd8\xff" and size(data) == (100, 200)
    # Clockwise: the red top-left marker is now top-right.
    assert pixel(data, 95, 5)[0] > 150 and pixel(data, 5, 5)[0] < 80


def test_a_download_naming_the_style_after_the_exclamation_mark_applies_it(
    cos: Any, bucket: str, server: RunningServer
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="photos/a.png")
    add_style(cos, bucket, "small", "imageMogr2/thumbnail/50x")
    response = signed(server, "GET", "/photos/a.png!small", bucket)
    assert response.status_code == 200, response.text
    assert size(response.content) == (50, 25)
    # An object whose key really holds the separator is served as stored.
    cos.put_object(Bucket=bucket, Body=b"literally", Key="notes!small")
    assert signed(server, "GET", "/notes!small", bucket).content == b"literally"
    assert signed(server, "GET", "/missing.png!small", bucket).status_code == 404


def test_an_upload_with_pic_operations_naming_a_style_stores_the_styled_result(cos: Any, bucket: str) -> None:
    add_style(cos, bucket, "small", "imageMogr2/thumbnail/50x")
    operations = json.dumps({"is_pic_info": 0, "rules": [{"fileid": "small.png", "rule": "style/small"}]})
    _, result = cos.ci_put_object(Bucket=bucket, Body=marker_png(200, 100), Key="up/a.png", PicOperations=operations)
    assert result["ProcessResults"]["Object"]["Key"] == "up/small.png"
    assert size(cos.get_object(Bucket=bucket, Key="up/small.png")["Body"].get_raw_stream().read()) == (50, 25)


def test_a_pic_job_naming_a_style_keeps_the_body_it_was_submitted_with(cos: Any, bucket: str) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="a.png")
    add_style(cos, bucket, "half", "imageMogr2/thumbnail/!50p")
    job_id = submit(cos, bucket, pic_job(bucket, "a.png", "style/half|imageMogr2/rotate/90", "out.png"))
    # Editing the style after submit does not change the job.
    add_style(cos, bucket, "half", "imageMogr2/thumbnail/!10p")
    detail = wait_for_state(getter(cos, bucket), job_id)
    assert detail["State"] == "Success", detail
    assert detail["Operation"]["PicProcess"]["ProcessRule"] == "style/half|imageMogr2/rotate/90"
    out = cos.get_object(Bucket=bucket, Key="out.png")["Body"].get_raw_stream().read()
    assert size(out) == (50, 100)


def test_an_unknown_style_is_a_400_naming_it_everywhere(cos: Any, bucket: str, tmp_path: Path) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(), Key="a.png")
    attempts = [
        lambda: cos.ci_get_object(Bucket=bucket, Key="a.png", DestImagePath=str(tmp_path / "x"), Rule="style/nope"),
        lambda: cos.ci_put_object(Bucket=bucket, Body=marker_png(), Key="b.png", PicOperations=json.dumps(
            {"rules": [{"fileid": "c.png", "rule": "style/nope"}]})),
        lambda: cos.ci_create_media_pic_jobs(Bucket=bucket, Lst={},
                                             Jobs=pic_job(bucket, "a.png", "style/nope", "out.png")),
    ]
    for attempt in attempts:
        with pytest.raises(CosServiceError) as caught:
            attempt()
        assert caught.value.get_status_code() == 400 and "nope" in caught.value.get_error_msg()
    # The refused upload stored nothing.
    with pytest.raises(CosServiceError):
        cos.head_object(Bucket=bucket, Key="b.png")


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [("bad", "imageMogr2/wobble/1", "StyleBody"), ("bad name!", "imageMogr2/rotate/90", "StyleName"),
     ("ok", "style/other", "StyleBody")],
)
def test_a_bad_style_is_a_400_naming_the_field(cos: Any, bucket: str, name: str, body: str, field: str) -> None:
    with pytest.raises(CosServiceError) as caught:
        add_style(cos, bucket, name, body)
    assert caught.value.get_status_code() == 400 and caught.value.get_error_code() == "InvalidArgument"
    assert field in caught.value.get_error_msg()
    assert styles_of(cos, bucket) == {}


def pic_downloads(server: RunningServer) -> dict[str, float]:
    """The server's count of processed downloads, by where each result came from."""
    text = httpx.get(server.url + "/-/metrics", timeout=10).text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "wanxiang_pic_downloads_total"
    }


def test_a_style_download_is_cached_until_the_style_changes(
    cos: Any, bucket: str, server: RunningServer, tmp_path: Path
) -> None:
    cos.put_object(Bucket=bucket, Body=marker_png(200, 100), Key="cards/a.png")
    add_style(cos, bucket, "card", "imageMogr2/thumbnail/50x/format/png")
    before = pic_downloads(server)
    first = cos.get_object(Bucket=bucket, Key="cards/a.png!card")
    data = first["Body"].get_raw_stream().read()
    assert size(data) == (50, 25)

    again = cos.get_object(Bucket=bucket, Key="cards/a.png!card")
    assert again["Body"].get_raw_stream().read() == data and again["ETag"] == first["ETag"]
    counted = pic_downloads(server)
    assert counted.get("processed", 0) - before.get("processed", 0) == 1
    assert counted.get("cache", 0) - before.get("cache", 0) == 1
    # The ETag lets a CDN revalidate the styled result as it does a ?rule result.
    revalidated = signed(server, "GET", "/cards/a.png!card", bucket, headers={"If-None-Match": first["ETag"]})
    assert revalidated.status_code == 304

    add_style(cos, bucket, "card", "imageMogr2/thumbnail/80x/format/png")  # the style replaced
    changed = cos.get_object(Bucket=bucket, Key="cards/a.png!card")
    assert size(changed["Body"].get_raw_stream().read()) == (80, 40)
    assert changed["ETag"] != first["ETag"]
    assert pic_downloads(server).get("processed", 0) - before.get("processed", 0) == 2
