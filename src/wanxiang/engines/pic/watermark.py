"""Image (`watermark/1`) and text (`watermark/2`) watermarks composited onto every frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pyvips

from wanxiang.engines.pic.bmp import decode_bmp, is_bmp
from wanxiang.engines.pic.decode import DEFAULT_LIMITS, check_in_memory, check_limits, probe
from wanxiang.engines.pic.frames import first_frame, per_frame
from wanxiang.engines.pic.geometry import place
from wanxiang.engines.pic.operations import ImageWatermark, TextWatermark
from wanxiang.model.errors import JobFailure

ReadObject = Callable[[str], bytes]
_MAX_MARK_BYTES = 32 * 1024 * 1024


def apply_watermark(
    image: pyvips.Image, op: ImageWatermark | TextWatermark, read_object: ReadObject | None
) -> pyvips.Image:
    mark = image_mark(op, read_object) if isinstance(op, ImageWatermark) else text_mark(op)
    return per_frame(image, lambda frame: _stamp(frame, mark, op))


def image_mark(op: ImageWatermark, read_object: ReadObject | None) -> pyvips.Image:
    """The watermark object as 8-bit sRGB with alpha."""
    if read_object is None:
        raise JobFailure("InvalidArgument", "image watermarks need access to the bucket")
    data = read_object(op.key)
    if len(data) > _MAX_MARK_BYTES:
        raise JobFailure("InvalidArgument", f"watermark image {op.key} is larger than 32 MB")
    # The mark is held decoded in memory: the same budget as any input, for its first frame.
    try:
        source = probe(data)
    except JobFailure:
        raise JobFailure("InvalidArgument", f"watermark image {op.key} cannot be decoded") from None
    check_limits(source, DEFAULT_LIMITS)
    check_in_memory(dataclasses.replace(source, pages=1), DEFAULT_LIMITS)
    try:
        mark = decode_bmp(data) if is_bmp(data) else pyvips.Image.new_from_buffer(data, "", fail_on="warning")
        return _rgba(first_frame(mark)).copy_memory()
    except pyvips.Error:
        raise JobFailure("InvalidArgument", f"watermark image {op.key} cannot be decoded") from None


def text_mark(op: TextWatermark) -> pyvips.Image:
    """The text rendered in its fill colour on transparency (with an optional drop shadow)."""
    family = op.font.rsplit(".", 1)[0] if op.font.lower().endswith((".ttf", ".otf", ".ttc")) else op.font
    # CI's default tahoma.ttf is not here; pango falls back to the default sans face for unknown names
    mask = pyvips.Image.text(op.text, font=f"{family} {op.fontsize}", dpi=72)
    colour = [int(op.fill[i : i + 2], 16) for i in (1, 3, 5)]
    text = (mask.new_from_image(colour).copy(interpretation="srgb")).bandjoin(mask)
    if op.shadow <= 0:
        return text
    offset = max(1, op.fontsize // 15)
    shadow_alpha = (mask * (op.shadow / 100)).cast("uchar")
    shadow = mask.new_from_image([0, 0, 0]).copy(interpretation="srgb").bandjoin(shadow_alpha)
    canvas = shadow.embed(offset, offset, text.width + offset, text.height + offset)
    return canvas.composite2(text, "over").cast("uchar")


def _rgba(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.bands in (1, 2):
        image = image.colourspace("srgb")
    image = image if image.format == "uchar" else image.cast("uchar")
    return image if image.hasalpha() else image.bandjoin(255)


def _sized(mark: pyvips.Image, frame: pyvips.Image, op: ImageWatermark | TextWatermark) -> pyvips.Image:
    if op.scatype is not None and op.spcent is not None:
        if op.scatype == 1:
            scale = frame.width * op.spcent / 1000 / mark.width
        elif op.scatype == 2:
            scale = frame.height * op.spcent / 1000 / mark.height
        else:
            scale = (frame.width * frame.height * op.spcent / 1000 / (mark.width * mark.height)) ** 0.5
        mark = mark.resize(scale)
    if (
        isinstance(op, ImageWatermark)
        and op.blogo
        and (mark.width > frame.width or mark.height > frame.height)
    ):
        if op.blogo == 1:
            mark = mark.resize(min(frame.width / mark.width, frame.height / mark.height))
        else:
            mark = mark.crop(0, 0, min(mark.width, frame.width), min(mark.height, frame.height))
    if op.degree % 360:
        mark = mark.rotate(op.degree % 360, background=[0, 0, 0, 0])
    if op.dissolve < 100:
        alpha = (mark.extract_band(3) * (op.dissolve / 100)).cast("uchar")
        mark = mark.extract_band(0, n=3).bandjoin(alpha)
    return mark.cast("uchar")


def _stamp(frame: pyvips.Image, mark: pyvips.Image, op: ImageWatermark | TextWatermark) -> pyvips.Image:
    mark = _sized(mark, frame, op)
    base = _rgba(frame)
    if op.batch:
        # tile the mark (plus spacing) over the whole frame
        cell = mark.embed(0, 0, mark.width + op.spacing, mark.height + op.spacing)
        across = frame.width // cell.width + 1
        down = frame.height // cell.height + 1
        tiled = cell.replicate(across, down).crop(0, 0, frame.width, frame.height)
        out = base.composite2(tiled, "over")
    else:
        x, y = place(op.gravity, (frame.width, frame.height), (mark.width, mark.height), op.dx, op.dy)
        out = base.composite2(mark, "over", x=x, y=y)
    out = out.cast("uchar")
    return out if frame.hasalpha() else out.extract_band(0, n=3)
