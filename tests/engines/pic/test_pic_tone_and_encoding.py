"""Tone steps and encoder settings, checked on pixels and on the encoded bytes."""

from __future__ import annotations

import pytest
import pyvips
from pic_samples import canvas, decode, marked_png, photo, photo_jpeg, pixel

from wanxiang.engines.pic import process_image
from wanxiang.engines.pic.info import jpeg_quality
from wanxiang.model.errors import JobFailure


def _png(image: pyvips.Image) -> bytes:
    return bytes(image.pngsave_buffer())


def test_grayscale_makes_every_pixel_grey() -> None:
    out = process_image(marked_png(), "imageMogr2/grayscale/1")
    red_now = pixel(out.data, 5, 5)
    assert max(red_now[:3]) - min(red_now[:3]) <= 1 and red_now[0] < 200


def test_blur_softens_a_hard_edge() -> None:
    half = canvas(100, 100, (0, 0, 0)).draw_rect([255, 255, 255], 50, 0, 50, 100, fill=True)
    out = process_image(_png(half), "imageMogr2/blur/10x5")
    edge = pixel(out.data, 49, 50)[0]
    assert 30 < edge < 225


def test_bright_raises_and_lowers_levels() -> None:
    grey = _png(canvas(20, 20, (100, 100, 100)))
    assert pixel(process_image(grey, "imageMogr2/bright/50").data, 5, 5)[0] > 200
    assert pixel(process_image(grey, "imageMogr2/bright/-30").data, 5, 5)[0] < 40


def test_contrast_spreads_or_squeezes_levels_around_mid_grey() -> None:
    two = canvas(20, 20, (100, 100, 100)).draw_rect([160, 160, 160], 10, 0, 10, 20, fill=True)
    more = process_image(_png(two), "imageMogr2/contrast/50")
    less = process_image(_png(two), "imageMogr2/contrast/-50")
    spread = lambda d: pixel(d, 15, 5)[0] - pixel(d, 5, 5)[0]  # noqa: E731
    assert spread(more.data) > 100 and spread(less.data) < 40


def test_sharpen_adds_overshoot_at_edges() -> None:
    half = canvas(100, 100, (60, 60, 60)).draw_rect([190, 190, 190], 50, 0, 50, 100, fill=True)
    source = _png(half.gaussblur(1.5).cast("uchar"))
    out = process_image(source, "imageMogr2/sharpen/200")
    assert pixel(out.data, 52, 50)[0] > pixel(source, 52, 50)[0] + 5


def test_strip_removes_exif_which_is_otherwise_kept() -> None:
    image = photo(120, 80).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "someone")
    source = bytes(image.jpegsave_buffer(Q=90))
    assert "exif-data" in decode(source).get_fields()
    kept = process_image(source, "imageMogr2/quality/80")
    assert "exif-data" in decode(kept.data).get_fields()
    stripped = process_image(source, "imageMogr2/strip")
    assert "exif-data" not in decode(stripped.data).get_fields()


def test_interlace_writes_a_progressive_jpeg() -> None:
    source = photo_jpeg(200, 150)
    progressive = process_image(source, "imageMogr2/interlace/1")
    baseline = process_image(source, "imageMogr2/interlace/0")
    assert b"\xff\xc2" in progressive.data  # SOF2 = progressive DCT
    assert b"\xff\xc2" not in baseline.data


def test_relative_and_lowest_quality_follow_the_source_quality() -> None:
    source = photo_jpeg(200, 150, quality=80)
    relative = process_image(source, "imageMogr2/rquality/50")
    assert relative.quality == 40 and abs(jpeg_quality(relative.data) - 40) <= 2  # type: ignore[operator]
    assert process_image(source, "imageMogr2/lquality/90").quality == 90
    assert process_image(source, "imageMogr2/lquality/50").quality == 80


def test_size_limit_brings_the_jpeg_under_the_limit() -> None:
    source = photo_jpeg(640, 480, quality=95)
    assert len(source) > 60 * 1024
    out = process_image(source, "imageMogr2/size-limit/30k")
    assert len(out.data) <= 30 * 1024
    assert decode(out.data).width == 640


def test_size_limit_with_bang_keeps_an_original_that_is_already_smaller() -> None:
    source = photo_jpeg(160, 120, quality=20)
    out = process_image(source, "imageMogr2/quality/100!/size-limit/500k!")
    assert out.data == source


def test_avif_output_is_an_avif_file() -> None:
    out = process_image(marked_png(), "imageMogr2/format/avif")
    assert out.data[4:12] == b"ftypavif" and out.content_type == "image/avif"


def test_webp_quality_changes_its_size() -> None:
    source = photo_jpeg(320, 240, quality=95)
    high = process_image(source, "imageMogr2/format/webp/quality/90")
    low = process_image(source, "imageMogr2/format/webp/quality/20")
    assert len(low.data) < len(high.data) * 0.6


def test_ignore_error_returns_the_original_instead_of_failing() -> None:
    source = marked_png(200, 100)
    with pytest.raises(JobFailure):
        process_image(source, "imageMogr2/cut/10x10x500x500")
    out = process_image(source, "imageMogr2/cut/10x10x500x500/ignore-error/1")
    assert out.data == source and (out.width, out.height) == (200, 100)


def test_heif_output_is_refused_as_unsupported_here() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(marked_png(), "imageMogr2/format/heif")
    assert caught.value.code == "UnsupportedFormat"
