"""Steps that move pixels: thumbnail, pad, cut, crop, rounded shapes, rotate, orient, flip."""

from __future__ import annotations

import math

import pyvips

from wanxiang.engines.pic.frames import per_frame
from wanxiang.engines.pic.operations import (
    AutoOrient,
    Crop,
    Cut,
    Flip,
    InscribedCircle,
    Rotate,
    RoundedCorners,
    SmartCrop,
    Thumbnail,
)
from wanxiang.model.errors import JobFailure


def thumbnail_target(width: int, height: int, op: Thumbnail) -> tuple[int, int]:
    """The W×H a thumbnail operation produces from a ``width``×``height`` frame."""
    w, h = float(width), float(height)
    if op.mode == "percent_width":
        return _size(w * (op.width or 100) / 100, h)
    if op.mode == "percent_height":
        return _size(w, h * (op.height or 100) / 100)
    if op.mode == "force":
        return _size(op.width or w, op.height or h)
    return _size(
        w * thumbnail_scale(width, height, op),
        h * thumbnail_scale(width, height, op),
        floor=op.mode == "area",
    )


def thumbnail_scale(width: int, height: int, op: Thumbnail) -> float:
    """The proportional scale of the modes that keep the aspect ratio."""
    target_w, target_h = op.width or 0.0, op.height or 0.0
    if op.mode == "percent":
        return target_w / 100
    if op.mode == "width":
        return target_w / width
    if op.mode == "height":
        return target_h / height
    if op.mode == "area":
        return math.sqrt((op.area or 1) / (width * height))
    fit = min(target_w / width, target_h / height)
    if op.mode == "fill":
        return max(target_w / width, target_h / height)
    if op.mode == "shrink":
        return min(fit, 1.0)
    if op.mode == "enlarge":
        return max(fit, 1.0)
    return fit


def _size(w: float, h: float, floor: bool = False) -> tuple[int, int]:
    rounding = math.floor if floor else round
    return max(1, int(rounding(w))), max(1, int(rounding(h)))


def resize_to(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    def step(frame: pyvips.Image) -> pyvips.Image:
        if (frame.width, frame.height) == (width, height):
            return frame
        return frame.resize(width / frame.width, vscale=height / frame.height)

    return per_frame(image, step)


def pad(image: pyvips.Image, op: Thumbnail) -> pyvips.Image:
    """Centre a fitted thumbnail on a W×H canvas of the pad colour."""
    if not op.pad or op.width is None or op.height is None:
        return image
    width, height = int(op.width), int(op.height)
    colour = [int(op.pad_color[i : i + 2], 16) for i in (1, 3, 5)]

    def step(frame: pyvips.Image) -> pyvips.Image:
        background = colour[: frame.bands] if frame.bands >= 3 else [sum(colour) // 3]
        if frame.hasalpha():
            background = [*background[: frame.bands - 1], 255]
        return frame.gravity(
            "centre",
            max(width, frame.width),
            max(height, frame.height),
            extend="background",
            background=background,
        )

    return per_frame(image, step)


def place(gravity: str, outer: tuple[int, int], inner: tuple[int, int], dx: int, dy: int) -> tuple[int, int]:
    """Top-left of an ``inner`` box placed in ``outer`` by nine-grid gravity and offsets (CI rules:
    centre ignores dx/dy, north/south ignore dx, west/east ignore dy; offsets point inwards)."""
    (ow, oh), (iw, ih) = outer, inner
    if "west" in gravity:
        x = dx
    elif "east" in gravity:
        x = ow - iw - dx
    else:
        x = (ow - iw) // 2
    if gravity.startswith("north"):
        y = dy
    elif gravity.startswith("south"):
        y = oh - ih - dy
    else:
        y = (oh - ih) // 2
    return x, y


def _clipped_crop(frame: pyvips.Image, x: int, y: int, w: int, h: int, what: str) -> pyvips.Image:
    left, top = max(0, x), max(0, y)
    right, bottom = min(frame.width, x + w), min(frame.height, y + h)
    if right <= left or bottom <= top:
        raise JobFailure(
            "InvalidArgument", f"{what} region lies outside the {frame.width}x{frame.height} image"
        )
    return frame.crop(left, top, right - left, bottom - top)


def cut(image: pyvips.Image, op: Cut) -> pyvips.Image:
    return per_frame(image, lambda f: _clipped_crop(f, op.dx, op.dy, op.width, op.height, "cut"))


def crop(image: pyvips.Image, op: Crop) -> pyvips.Image:
    def step(frame: pyvips.Image) -> pyvips.Image:
        w = min(op.width or frame.width, frame.width)
        h = min(op.height or frame.height, frame.height)
        x, y = place(op.gravity, (frame.width, frame.height), (w, h), op.dx, op.dy)
        return _clipped_crop(frame, x, y, w, h, "crop")

    return per_frame(image, step)


def smart_crop(image: pyvips.Image, op: SmartCrop) -> pyvips.Image:
    # fill the box, then keep the most interesting part (libvips' attention model stands in for faces)
    return per_frame(image, lambda f: f.thumbnail_image(op.width, height=op.height, crop="attention"))


def _with_mask(frame: pyvips.Image, svg: str) -> pyvips.Image:
    mask = pyvips.Image.svgload_buffer(svg.encode()).extract_band(3)
    if frame.hasalpha():
        alpha = frame.extract_band(frame.bands - 1) * (mask / 255.0)
        return frame.extract_band(0, n=frame.bands - 1).bandjoin(alpha.cast(frame.format))
    return frame.bandjoin(mask.cast(frame.format))


def inscribed_circle(image: pyvips.Image, op: InscribedCircle) -> pyvips.Image:
    def step(frame: pyvips.Image) -> pyvips.Image:
        r = min(op.radius, min(frame.width, frame.height) // 2)
        side = 2 * r
        square = frame.crop((frame.width - side) // 2, (frame.height - side) // 2, side, side)
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}">'
            f'<circle cx="{r}" cy="{r}" r="{r}" fill="#fff"/></svg>'
        )
        return _with_mask(square, svg)

    return per_frame(image, step)


def rounded_corners(image: pyvips.Image, op: RoundedCorners) -> pyvips.Image:
    def step(frame: pyvips.Image) -> pyvips.Image:
        r = min(op.radius, min(frame.width, frame.height) // 2)
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{frame.height}">'
            f'<rect width="{frame.width}" height="{frame.height}" rx="{r}" ry="{r}" fill="#fff"/></svg>'
        )
        return _with_mask(frame, svg)

    return per_frame(image, step)


def rotate(image: pyvips.Image, op: Rotate) -> pyvips.Image:
    degrees = op.degrees % 360
    right_angles = {90: "rot90", 180: "rot180", 270: "rot270"}
    if degrees == 0:
        return image
    if degrees in right_angles:
        return per_frame(image, lambda f: getattr(f, right_angles[int(degrees)])())

    def step(frame: pyvips.Image) -> pyvips.Image:
        # corners uncovered by the turn become transparent (white once flattened for JPEG)
        framed = frame if frame.hasalpha() else frame.bandjoin(255)
        return framed.rotate(degrees, background=[0] * framed.bands)

    return per_frame(image, step)


def auto_orient(image: pyvips.Image, _: AutoOrient) -> pyvips.Image:
    return image.autorot()


def flip(image: pyvips.Image, op: Flip) -> pyvips.Image:
    return per_frame(image, lambda f: f.flip(op.direction))
