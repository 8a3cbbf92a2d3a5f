"""Animated images as libvips holds them: frames stacked vertically, `page-height` tall each."""

from __future__ import annotations

from collections.abc import Callable

import pyvips


def page_height(image: pyvips.Image) -> int:
    if "page-height" in image.get_fields():
        height = int(image.get("page-height"))
        if 0 < height < image.height and image.height % height == 0:
            return height
    return image.height


def frame_count(image: pyvips.Image) -> int:
    return image.height // page_height(image)


def split_frames(image: pyvips.Image) -> list[pyvips.Image]:
    height = page_height(image)
    return [image.crop(0, top, image.width, height) for top in range(0, image.height, height)]


def join_frames(frames: list[pyvips.Image], like: pyvips.Image) -> pyvips.Image:
    """Frames stacked back into one animation, keeping the source's delays and loop count."""
    if len(frames) == 1:
        return frames[0]
    joined = pyvips.Image.arrayjoin(frames, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", frames[0].height)
    fields = like.get_fields()
    if "delay" in fields:
        delays = list(like.get("delay"))
        if len(delays) != len(frames):
            delays = [delays[0] if delays else 100] * len(frames)
        joined.set_type(pyvips.GValue.array_int_type, "delay", delays)
    if "loop" in fields:
        joined.set_type(pyvips.GValue.gint_type, "loop", int(like.get("loop")))
    return joined


def per_frame(image: pyvips.Image, step: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    """Apply a one-frame step to every frame of an animation (or once to a still image)."""
    if frame_count(image) == 1:
        return step(image)
    return join_frames([step(frame) for frame in split_frames(image)], image)


def first_frame(image: pyvips.Image) -> pyvips.Image:
    return image.crop(0, 0, image.width, page_height(image)) if frame_count(image) > 1 else image
