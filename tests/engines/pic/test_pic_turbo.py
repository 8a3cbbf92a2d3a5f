"""JPEGs shrunk on load are decoded by libjpeg-turbo when that is the same work: the same pixels
and the same metadata as libvips' own decode, and libvips still decides everything else."""

from __future__ import annotations

import pytest
import pyvips

from wanxiang.engines.pic.decode import DEFAULT_LIMITS, load, probe
from wanxiang.engines.pic.pipeline import process_image
from wanxiang.engines.pic.turbo import decode_shrunk
from wanxiang.model.errors import JobFailure


def noise(width: int, height: int, bands: int = 3) -> pyvips.Image:
    planes = [pyvips.Image.gaussnoise(width, height, sigma=50, seed=seed) for seed in range(bands)]
    image = planes[0].bandjoin(planes[1:]) if bands > 1 else planes[0]
    return image.cast("uchar").copy(interpretation="srgb" if bands == 3 else "b-w")


def photo(**save: object) -> bytes:
    """A JPEG with what cameras put in one: EXIF with an orientation, an ICC profile."""
    image = noise(1203, 901).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return bytes(image.jpegsave_buffer(Q=90, profile="srgb", **save))


def header_and_turbo(data: bytes, shrink: int) -> tuple[pyvips.Image, pyvips.Image | None]:
    """libvips' own load at 1/shrink, and libjpeg-turbo's decode with the header libvips probed."""
    source = probe(data)
    assert source.header is not None
    header = load(data, source, "sequential", shrink=shrink)
    return header, decode_shrunk(data, source.header, shrink, DEFAULT_LIMITS.max_decoded_bytes)


@pytest.mark.parametrize("shrink", [2, 4, 8])
@pytest.mark.parametrize(
    "save",
    [{}, {"subsample_mode": "off"}, {"interlace": True}, {"optimize_coding": True}],
    ids=["4:2:0", "4:4:4", "progressive", "optimized"],
)
def test_libjpeg_turbo_decodes_the_same_pixels_and_metadata_as_libvips(shrink: int, save: dict[str, object]) -> None:
    data = photo(**save)
    header, turbo = header_and_turbo(data, shrink)
    assert turbo is not None
    # (vips-sequential only marks libvips' own streaming load: the decoded image is in memory)
    assert turbo.get_fields() == [name for name in header.get_fields() if name != "vips-sequential"]
    assert (turbo.width, turbo.height, turbo.bands) == (header.width, header.height, header.bands)
    assert (turbo - header).abs().max() == 0  # header's pixels come from libvips' decode here
    for name in ("exif-data", "icc-profile-data", "orientation", "xres", "interpretation"):
        assert turbo.get(name) == header.get(name)


def test_a_greyscale_jpeg_stays_one_band() -> None:
    data = bytes(noise(800, 600, bands=1).jpegsave_buffer(Q=85))
    header, turbo = header_and_turbo(data, 4)
    assert turbo is not None and turbo.bands == 1 and turbo.interpretation == "b-w"
    assert (turbo - header).abs().max() == 0


def test_a_cmyk_jpeg_is_left_to_libvips() -> None:
    data = bytes(noise(800, 600).colourspace("cmyk").jpegsave_buffer(Q=85))
    assert header_and_turbo(data, 4)[1] is None
    result = process_image(data, "imageMogr2/thumbnail/100x")
    assert (result.width, result.height) == (100, 75)


def test_a_damaged_jpeg_is_judged_by_libvips_as_before() -> None:
    data = photo()
    # Stray bytes before the end marker: libjpeg warns, libvips has always accepted such files.
    padded = data[:-2] + b"\0" * 64 + data[-2:]
    assert header_and_turbo(padded, 8)[1] is None
    assert process_image(padded, "imageMogr2/thumbnail/150x").width == 150
    # Cut short: refused, as before.
    with pytest.raises(JobFailure) as caught:
        process_image(data[: len(data) // 2], "imageMogr2/thumbnail/150x")
    assert caught.value.code in ("ImageDecodeError", "InvalidImage")


def test_a_shrunk_image_too_large_to_hold_streams_through_libvips() -> None:
    data = photo()
    source = probe(data)
    assert source.header is not None
    shrunk = (source.width // 2) * (source.height // 2) * 3
    assert decode_shrunk(data, source.header, 2, max_bytes=shrunk) is not None
    assert decode_shrunk(data, source.header, 2, max_bytes=shrunk - 1) is None
