"""Watermarks (image from the bucket, text) and animated GIF/WebP inputs."""

from __future__ import annotations

import base64

import pytest
import pyvips
from pic_samples import canvas, pixel

from wanxiang.engines.pic import process_image
from wanxiang.engines.pic.frames import frame_count
from wanxiang.model.errors import JobFailure

BLUE = (0, 0, 255)


def _b64(text: str, padded: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def _white(width: int = 200, height: int = 100) -> bytes:
    return bytes(canvas(width, height).pngsave_buffer())


def _bucket(objects: dict[str, bytes]):  # type: ignore[no-untyped-def]
    def read_object(key: str) -> bytes:
        if key not in objects:
            raise JobFailure("InputObjectNotExist", key)
        return objects[key]

    return read_object


LOGO = {"logo/mark.png": bytes(canvas(20, 10, BLUE).pngsave_buffer())}


def test_image_watermark_lands_in_the_south_east_corner_by_default() -> None:
    url = "http://examplebucket-1250000000.cos.ap-chongqing.myqcloud.com/logo/mark.png"
    out = process_image(_white(), f"watermark/1/image/{_b64(url)}/dissolve/100", read_object=_bucket(LOGO))
    assert pixel(out.data, 195, 95)[:3] == [0, 0, 255]
    assert pixel(out.data, 5, 5)[:3] == [255, 255, 255]


def test_image_watermark_by_key_with_gravity_offsets_and_padding() -> None:
    rule = f"watermark/1/image/{_b64('logo/mark.png', padded=True)}/gravity/northwest/dx/10/dy/5/dissolve/100"
    out = process_image(_white(), rule, read_object=_bucket(LOGO))
    assert pixel(out.data, 12, 7)[:3] == [0, 0, 255]
    assert pixel(out.data, 5, 2)[:3] == [255, 255, 255]


def test_dissolve_makes_the_watermark_translucent() -> None:
    out = process_image(
        _white(), f"watermark/1/image/{_b64('logo/mark.png')}/dissolve/50", read_object=_bucket(LOGO)
    )
    red = pixel(out.data, 195, 95)[0]
    assert 100 < red < 160  # half white, half blue


def test_batch_tiles_the_watermark_over_the_whole_image() -> None:
    rule = f"watermark/1/image/{_b64('logo/mark.png')}/batch/1/spacing/10/dissolve/100"
    out = process_image(_white(), rule, read_object=_bucket(LOGO))
    assert pixel(out.data, 5, 5)[:3] == [0, 0, 255]
    assert pixel(out.data, 35, 25)[:3] == [0, 0, 255]  # second column, second row
    assert pixel(out.data, 25, 5)[:3] == [255, 255, 255]  # spacing


def test_scatype_scales_the_watermark_to_a_share_of_the_width() -> None:
    rule = f"watermark/1/image/{_b64('logo/mark.png')}/scatype/1/spcent/500/gravity/northwest/dissolve/100"
    out = process_image(_white(), rule, read_object=_bucket(LOGO))
    assert pixel(out.data, 95, 45)[:3] == [0, 0, 255]  # now 100x50
    assert pixel(out.data, 105, 55)[:3] == [255, 255, 255]


def test_a_missing_watermark_object_fails_the_job() -> None:
    with pytest.raises(JobFailure) as caught:
        process_image(_white(), f"watermark/1/image/{_b64('nope.png')}", read_object=_bucket(LOGO))
    assert caught.value.code == "InputObjectNotExist"


def _ink(image: pyvips.Image, left: int, top: int, width: int, height: int) -> float:
    """Share of the region that is clearly not white."""
    region = image.crop(left, top, width, height).extract_band(0)
    return (region < 128).avg() / 255


def test_text_watermark_renders_glyphs_in_the_fill_colour() -> None:
    rule = f"watermark/2/text/{_b64('Hello 万象')}/fontsize/40/fill/{_b64('#FF0000')}/dissolve/100/gravity/northwest"
    out = process_image(_white(400, 200), rule)
    image = pyvips.Image.new_from_buffer(out.data, "")
    green = image.extract_band(1)
    inked = (green < 128).avg() / 255
    assert 0.01 < inked < 0.3
    assert _ink(image, 200, 100, 200, 100) == 0  # nothing far from the north-west corner
    reds = [pixel(image, x, y) for x in range(0, 200, 2) for y in range(0, 60, 2)]
    assert any(p[0] > 200 and p[1] < 60 for p in reds)


def _has_cjk_font() -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return bool(listing.strip())


@pytest.mark.skipif(not _has_cjk_font(), reason="no CJK font installed: run `make system-deps` (fonts-wqy-microhei)")
def test_cjk_text_renders_real_glyphs_not_empty_boxes() -> None:
    def render(text: str) -> pyvips.Image:
        rule = (
            f"watermark/2/text/{_b64(text)}/fontsize/40/fill/{_b64('#000000')}/dissolve/100/gravity/northwest"
        )
        return pyvips.Image.new_from_buffer(process_image(_white(400, 100), rule).data, "")

    # distinct characters must not render as identical "missing glyph" boxes
    first, second = render("万"), render("象")
    assert _ink(first, 0, 0, 60, 60) > 0.02
    assert (first - second).abs().max() > 100


def test_text_watermark_rotated_by_degree_still_renders() -> None:
    out = process_image(
        _white(300, 300), f"watermark/2/text/{_b64('ROTATED')}/fontsize/30/degree/90/gravity/center"
    )
    image = pyvips.Image.new_from_buffer(out.data, "")
    assert _ink(image, 130, 90, 40, 120) > 0.05  # a tall, narrow run of text in the middle


def _animated_gif(frames: int = 6, width: int = 60, height: int = 40) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    strip = pyvips.Image.arrayjoin(
        [canvas(width, height, colours[i % 3]) for i in range(frames)], across=1
    ).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [100] * frames)
    return bytes(strip.gifsave_buffer())


def _frames(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "", n=-1)


@pytest.mark.parametrize(
    ("rule", "size"),
    [
        ("imageMogr2/thumbnail/30x", (30, 20)),
        ("imageMogr2/rotate/90", (40, 60)),
        ("imageMogr2/crop/20x20/gravity/center", (20, 20)),
        ("imageMogr2/thumbnail/!50p/flip/vertical", (30, 20)),
    ],
)
def test_an_animated_gif_keeps_every_frame(rule: str, size: tuple[int, int]) -> None:
    out = process_image(_animated_gif(), rule)
    frames = _frames(out.data)
    assert out.format == "gif" and (out.width, out.height) == size
    assert frame_count(frames) == 6 and frames.width == size[0]
    assert pixel(frames, 2, size[1] + 2)[1] > 200  # second frame is still green


def test_an_animated_gif_keeps_its_frames_as_webp_but_not_as_png() -> None:
    webp = process_image(_animated_gif(), "imageMogr2/format/webp")
    assert frame_count(_frames(webp.data)) == 6
    png = process_image(_animated_gif(), "imageMogr2/format/png")
    assert (png.width, png.height) == (60, 40)


def test_cgif_reduces_the_frame_count() -> None:
    # every 2nd of 8 frames: red, blue, green, red (gifsave merges identical neighbours)
    out = process_image(_animated_gif(frames=8), "imageMogr2/cgif/4")
    assert frame_count(_frames(out.data)) == 4


def test_a_watermark_goes_on_every_frame() -> None:
    rule = f"watermark/1/image/{_b64('logo/mark.png')}/dissolve/100"
    out = process_image(_animated_gif(frames=3), rule, read_object=_bucket(LOGO))
    frames = _frames(out.data)
    assert all(
        pixel(frames, 55, 40 * i + 35)[2] > 200 and pixel(frames, 55, 40 * i + 35)[0] < 60 for i in range(3)
    )
