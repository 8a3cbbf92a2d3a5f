"""ImageInspect's verdicts on real images with real files hidden behind them."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import pyvips
from tests.support.media import transport_stream

from wanxiang.engines.image_inspect.detect import NotAnImage, inspect

FORMATS = [("jpeg", ".jpg"), ("png", ".png"), ("gif", ".gif"), ("webp", ".webp")]


def _picture(suffix: str, *, frames: int = 1) -> bytes:
    rows = [np.full((48, 64, 3), (40 * k % 255, 90, 200), dtype=np.uint8) for k in range(frames)]
    image = pyvips.Image.new_from_array(np.vstack(rows)).copy(interpretation="srgb")
    if frames > 1:
        image = image.copy()
        image.set_type(pyvips.GValue.gint_type, "page-height", 48)
    return bytes(image.write_to_buffer(suffix))


def _bmp() -> bytes:
    width, height = 8, 4
    row = bytes([10, 20, 30]) * width  # 24 bpp, 24-byte rows need no padding
    pixels = row * height
    header = b"BM" + (54 + len(pixels)).to_bytes(4, "little") + b"\0\0\0\0" + (54).to_bytes(4, "little")
    info = (40).to_bytes(4, "little") + width.to_bytes(4, "little") + height.to_bytes(4, "little")
    info += (1).to_bytes(2, "little") + (24).to_bytes(2, "little") + bytes(24)
    return header + info + pixels


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "hidden " * 100)
    return buffer.getvalue()


@pytest.mark.parametrize(("pic_type", "suffix"), FORMATS)
def test_a_plain_image_is_not_suspicious(pic_type: str, suffix: str) -> None:
    data = _picture(suffix)
    verdict = inspect(data)
    assert (verdict.pic_type, verdict.pic_size, verdict.suspicious) == (pic_type, len(data), False)


@pytest.mark.parametrize(("pic_type", "suffix"), FORMATS)
def test_a_video_stream_behind_an_image_is_found_where_it_starts(pic_type: str, suffix: str) -> None:
    image, stream = _picture(suffix), transport_stream()
    verdict = inspect(image + stream)
    assert verdict.suspicious and verdict.suspicious_type == "MPEG-TS"
    assert (verdict.suspicious_begin, verdict.suspicious_end) == (len(image), len(image) + len(stream) - 1)
    assert verdict.suspicious_size == len(stream)
    assert verdict.pic_type == pic_type


def test_an_animated_gif_is_walked_to_its_trailer() -> None:
    gif = _picture(".gif", frames=5)
    archive = _zip()
    verdict = inspect(gif + archive)
    assert (verdict.suspicious_type, verdict.suspicious_begin) == ("ZIP", len(gif))


def test_a_bmp_with_an_archive_after_its_declared_size() -> None:
    bmp, archive = _bmp(), _zip()
    assert inspect(bmp).suspicious is False
    verdict = inspect(bmp + archive)
    assert (verdict.pic_type, verdict.suspicious_type, verdict.suspicious_begin) == ("bmp", "ZIP", len(bmp))


def test_a_bare_transport_stream_renamed_to_jpg_is_suspicious_from_byte_zero() -> None:
    stream = transport_stream()
    verdict = inspect(stream)
    assert verdict.suspicious and verdict.suspicious_begin == 0 and verdict.suspicious_size == len(stream)
    assert verdict.pic_type == ""


def test_a_few_bytes_of_padding_after_the_image_are_not_suspicious() -> None:
    jpeg = _picture(".jpg")
    assert inspect(jpeg + b"\0" * 64 + b"\r\n").suspicious is False


def test_a_large_unrecognised_trailer_is_reported_as_unknown() -> None:
    png = _picture(".png")
    noise = np.random.default_rng(7).integers(1, 255, 40_000, dtype=np.uint8).tobytes()
    verdict = inspect(png + noise)
    assert verdict.suspicious and verdict.suspicious_begin == len(png)
    assert verdict.suspicious_type in ("Unknown", "MPEG-TS", "ZIP", "GZIP", "PE", "MP3", "OGG", "FLAC", "HTML")


def test_a_text_file_is_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        inspect(b"hello, this is not a picture" * 20)


@pytest.mark.parametrize("cut", [16, 40, 200])
def test_truncated_images_end_where_the_bytes_end(cut: int) -> None:
    for _, suffix in FORMATS:
        verdict = inspect(_picture(suffix)[:cut])
        assert verdict.suspicious is False
