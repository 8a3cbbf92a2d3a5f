from __future__ import annotations

import pytest
from pic_samples import decode, is_red, marked_png, photo_jpeg, pixel, png_header_only

from wanxiang.engines.pic import PixelLimits, image_info, process_image
from wanxiang.model.errors import JobFailure


def test_rotate_90_moves_the_red_corner_from_top_left_to_top_right() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/rotate/90")
    assert (out.width, out.height) == (100, 200)
    assert is_red(pixel(out.data, 95, 5))
    assert not is_red(pixel(out.data, 5, 5))


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ("100x", (100, 50)),
        ("x25", (50, 25)),
        ("50x50", (50, 25)),
        ("!50p", (100, 50)),
        ("!25px", (50, 100)),
        ("!x10p", (200, 10)),
        ("!100x100r", (200, 100)),
        ("40x40!", (40, 40)),
        ("400x400>", (200, 100)),
        ("400x400<", (400, 200)),
        ("100x100<", (200, 100)),
        ("5000@", (100, 50)),
    ],
)
def test_thumbnail_gives_the_documented_size(spec: str, size: tuple[int, int]) -> None:
    out = process_image(marked_png(200, 100), f"imageMogr2/thumbnail/{spec}")
    assert (out.width, out.height) == size
    assert (decode(out.data).width, decode(out.data).height) == size


def test_format_really_changes_the_encoding() -> None:
    source = marked_png()
    expected_magic = {
        "jpg": b"\xff\xd8\xff",
        "webp": b"RIFF",
        "gif": b"GIF8",
        "bmp": b"BM",
        "png": b"\x89PNG",
    }
    for fmt, magic in expected_magic.items():
        out = process_image(source, f"imageMogr2/format/{fmt}")
        assert out.data.startswith(magic), fmt
        assert out.format == fmt
        assert out.content_type == {"jpg": "image/jpeg"}.get(fmt, f"image/{fmt}")


def test_bmp_output_keeps_the_red_corner_where_it_was() -> None:
    out = process_image(marked_png(), "imageMogr2/format/bmp")
    again = process_image(out.data, "imageMogr2/format/png")  # our BMP reader reads it back
    assert is_red(pixel(again.data, 5, 5)) and not is_red(pixel(again.data, 195, 95))


def test_lower_quality_makes_a_smaller_jpeg() -> None:
    source = photo_jpeg(quality=95)
    high = process_image(source, "imageMogr2/quality/90")
    low = process_image(source, "imageMogr2/quality/30")
    assert (high.quality, low.quality) == (90, 30)
    assert len(low.data) < len(high.data) * 0.6


def test_quality_never_raises_above_the_source_unless_forced() -> None:
    source = photo_jpeg(quality=60)
    assert process_image(source, "imageMogr2/quality/90").quality == 60
    assert process_image(source, "imageMogr2/quality/90!").quality == 90


def test_a_chain_is_one_output_with_every_part_applied() -> None:
    out = process_image(
        marked_png(200, 100), "imageMogr2/thumbnail/!50p/rotate/90/format/png|imageMogr2/quality/80"
    )
    assert (out.format, out.width, out.height) == ("png", 50, 100)
    assert is_red(pixel(out.data, 47, 2))


def test_a_truncated_jpeg_fails_as_undecodable() -> None:
    data = photo_jpeg()
    with pytest.raises(JobFailure) as caught:
        process_image(data[: len(data) // 2], "imageMogr2/thumbnail/100x")
    assert caught.value.code == "ImageDecodeError"
    with pytest.raises(JobFailure) as caught:
        process_image(data[: len(data) // 2], "imageMogr2/rotate/90")
    assert caught.value.code == "ImageDecodeError"


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(b"this is not a picture at all", "imageMogr2/rotate/90")
    assert caught.value.code == "InvalidImage"


def test_a_50000_pixel_square_png_is_refused_from_its_header() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(png_header_only(50_000, 50_000), "imageMogr2/thumbnail/100x")
    assert caught.value.code == "ImageTooLarge"
    assert "30000" in caught.value.message


def test_pixel_limits_are_configurable() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(marked_png(200, 100), "imageMogr2/rotate/90", limits=PixelLimits(max_pixels=10_000))
    assert caught.value.code == "ImageTooLarge"


def test_a_bad_rule_fails_as_invalid_argument_naming_the_part() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(marked_png(), "imageMogr2/rotat/90")
    assert (caught.value.code, caught.value.message) == (
        "InvalidArgument",
        "imageMogr2: unknown operation 'rotat'",
    )


def test_styles_are_refused_for_now() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(marked_png(), "style/small")
    assert (caught.value.code, caught.value.message) == ("InvalidArgument", "styles are not supported")


def test_image_info_describes_the_input() -> None:
    info = image_info(marked_png(200, 100))
    assert {k: info[k] for k in ("format", "width", "height", "frame_count")} == {
        "format": "png",
        "width": "200",
        "height": "100",
        "frame_count": "1",
    }
    assert len(info["md5"]) == 32 and info["size"].isdigit()
    assert info["photo_rgb"].startswith("0x") and len(info["photo_rgb"]) == 8
    assert all(isinstance(v, str) for v in info.values())
