"""Images read from a file (what jobs and downloads do with local storage) give what their bytes
give, and a big thumbnail reduction decodes the JPEG at 1/8 without visibly changing the result."""

from __future__ import annotations

import math
from pathlib import Path

import pyvips
from pic_samples import decode, photo, photo_jpeg

from wanxiang.engines.pic import process_image
from wanxiang.engines.pic.decode import probe
from wanxiang.engines.pic.info import jpeg_quality
from wanxiang.engines.pic.pipeline import jpeg_shrink


def _psnr(a: pyvips.Image, b: pyvips.Image) -> float:
    mse = ((a.cast("float") - b.cast("float")) ** 2).avg()
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def test_a_file_and_its_bytes_give_the_same_output(tmp_path: Path) -> None:
    data = photo_jpeg(1600, 1200, quality=80)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    for rule in ("imageMogr2/thumbnail/200x", "imageMogr2/rotate/90/format/png", "imageMogr2/crop/300x300/quality/70"):
        from_file, from_bytes = process_image(path, rule), process_image(data, rule)
        assert from_file.data == from_bytes.data, rule
        assert (from_file.width, from_file.height, from_file.quality) == (from_bytes.width, from_bytes.height, from_bytes.quality)


def test_the_quality_is_read_from_the_header_past_a_large_exif_block(tmp_path: Path) -> None:
    image = photo(320, 240).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-ImageDescription", "x" * 60_000)
    path = tmp_path / "exif.jpg"
    path.write_bytes(bytes(image.jpegsave_buffer(Q=63)))
    assert jpeg_quality(path) == jpeg_quality(path.read_bytes()) == 63


def test_a_twelve_megapixel_photo_bound_for_400_px_is_decoded_at_an_eighth_and_looks_the_same(tmp_path: Path) -> None:
    data = photo_jpeg(4000, 3000, quality=85)
    path = tmp_path / "big.jpg"
    path.write_bytes(data)
    assert jpeg_shrink(probe(path), 400, 300) == 8
    result = process_image(path, "imageMogr2/thumbnail/400x/quality/85")
    assert (result.width, result.height) == (400, 300)
    # the reference: every source pixel decoded, then one Lanczos reduction
    reference = pyvips.Image.new_from_buffer(data, "").resize(0.1)
    assert _psnr(decode(result.data), reference) > 35


def test_no_decoder_shrink_when_the_target_is_close_to_the_source() -> None:
    source = probe(photo_jpeg(640, 480))
    assert jpeg_shrink(source, 400, 300) == 1
    assert jpeg_shrink(source, 160, 120) == 4


def test_jpeg_output_is_smaller_than_a_plain_encoding_with_fitted_huffman_tables() -> None:
    data = photo_jpeg(1200, 900, quality=85)
    ours = process_image(data, "imageMogr2/thumbnail/400x/quality/85").data
    plain = bytes(decode(ours).jpegsave_buffer(Q=85, optimize_coding=False))
    assert len(ours) < len(plain)
    plain_again = bytes(pyvips.Image.thumbnail_buffer(data, 400).jpegsave_buffer(Q=85, optimize_coding=False))
    assert len(ours) < len(plain_again)
