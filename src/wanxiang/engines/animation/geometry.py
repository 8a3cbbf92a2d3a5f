"""Output geometry: display rotation and the Width/Height rules (one side given keeps the aspect)."""

from __future__ import annotations

from wanxiang.engines.animation.params import MAX_SIDE
from wanxiang.model.errors import JobFailure


def normalise_rotation(rotation: float) -> int:
    """The display rotation in counter-clockwise degrees (as FFmpeg's display matrix reads), one of 0/90/180/270."""
    return int(round(rotation / 90.0)) % 4 * 90


def rotation_filters(rotation: int) -> list[tuple[str, str]]:
    """The filters that turn coded pictures upright, as ``ffmpeg`` does on its own (autorotate)."""
    if rotation == 90:
        return [("transpose", "cclock")]
    if rotation == 270:
        return [("transpose", "clock")]
    if rotation == 180:
        return [("hflip", ""), ("vflip", "")]
    return []


def display_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if rotation in (90, 270) else (width, height)


def output_size(source: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    """The animation's size from the upright source size; fails the job when a side would pass 4096."""
    src_w, src_h = source
    if width and height:
        size = (width, height)
    elif width:
        size = (width, max(1, round(src_h * width / src_w)))
    elif height:
        size = (max(1, round(src_w * height / src_h)), height)
    else:
        size = (src_w, src_h)
    if max(size) > MAX_SIDE:
        raise JobFailure(
            "InvalidArgument", f"animation size {size[0]}x{size[1]} is over the {MAX_SIDE} px limit"
        )
    return size
