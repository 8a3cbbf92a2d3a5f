"""Inputs that lie about their size, or are small on disk and huge once decoded, fail fast with a
clear Code instead of eating the machine."""

from __future__ import annotations

import resource
import time

import pytest
from pic_samples import marked_png
from tests.support import hostile

from wanxiang.engines.pic import PixelLimits, image_info, process_image
from wanxiang.model.errors import JobFailure


def refused(data: bytes, rule: str, **limits: int) -> JobFailure:
    started = time.monotonic()
    with pytest.raises(JobFailure) as caught:
        process_image(data, rule, limits=PixelLimits(**limits)) if limits else process_image(data, rule)
    assert time.monotonic() - started < 2
    return caught.value


@pytest.mark.parametrize("rule", ["imageMogr2/rotate/90", "imageMogr2/thumbnail/100x", "imageMogr2/crop/50x50"])
def test_a_jpeg_whose_header_claims_240_megapixels_fails_without_decoding_them(rule: str) -> None:
    data = hostile.lying_jpeg()
    assert len(data) < 2000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    failure = refused(data, rule)
    assert failure.code in ("ImageTooLarge", "ImageDecodeError")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 << 10  # KiB: under 100 MB grew


def test_a_gif_of_ten_thousand_frames_is_refused_by_its_frame_count() -> None:
    failure = refused(hostile.many_frame_gif(), "imageMogr2/thumbnail/50x")
    assert failure.code == "ImageTooLarge" and "10000 frames" in failure.message


def test_a_real_50000_pixel_square_png_is_refused_from_its_header() -> None:
    failure = refused(hostile.huge_png(), "imageMogr2/rotate/90")
    assert failure.code == "ImageTooLarge" and "50000x50000" in failure.message


def test_a_truncated_jpeg_is_a_decode_error_not_a_grey_picture() -> None:
    assert refused(hostile.truncated_jpeg(), "imageMogr2/rotate/90").code == "ImageDecodeError"
    assert refused(hostile.truncated_jpeg(), "imageMogr2/thumbnail/100x").code == "ImageDecodeError"


def test_out_of_order_steps_are_refused_above_the_memory_budget_and_a_thumbnail_first_fits() -> None:
    data = marked_png(400, 300)  # 400 x 300 x 3 bytes = 360,000 decoded
    failure = refused(data, "imageMogr2/rotate/90", max_decoded_bytes=200_000)
    assert "in memory" in failure.message
    small = process_image(data, "imageMogr2/thumbnail/200x/rotate/90", limits=PixelLimits(max_decoded_bytes=200_000))
    assert (small.width, small.height) == (150, 200)
    # Top-to-bottom steps stream: the same budget lets a crop through.
    cropped = process_image(data, "imageMogr2/crop/100x100", limits=PixelLimits(max_decoded_bytes=200_000))
    assert (cropped.width, cropped.height) == (100, 100)


def test_frame_count_limit_is_configurable() -> None:
    gif = hostile.many_frame_gif(frames=40, side=20)
    assert process_image(gif, "imageMogr2/thumbnail/10x").height == 10
    assert refused(gif, "imageMogr2/thumbnail/10x", max_frames=30).code == "ImageTooLarge"
    with pytest.raises(JobFailure):
        image_info(gif, PixelLimits(max_frames=30))


def test_a_watermark_that_lies_about_its_size_is_refused_before_it_is_decoded() -> None:
    marks = {"mark.jpg": hostile.lying_jpeg()}
    failure = refused(marked_png(200, 100), "watermark/1/image/bWFyay5qcGc")  # base64url("mark.jpg")
    assert failure.code == "InvalidArgument"  # no read_object: still refused, nothing decoded
    with pytest.raises(JobFailure) as caught:
        process_image(marked_png(200, 100), "watermark/1/image/bWFyay5qcGc", read_object=marks.__getitem__)
    assert caught.value.code == "ImageTooLarge"
