"""Images the tests make themselves."""

from __future__ import annotations

import pyvips


def marker_png(width: int = 200, height: int = 100) -> bytes:
    """A black image with a red square in the top-left corner: rotations move it predictably."""
    image = pyvips.Image.black(width, height, bands=3).draw_rect([255, 0, 0], 0, 0, 20, 20, fill=True)
    return bytes(image.write_to_buffer(".png"))


def pixel(data: bytes, x: int, y: int) -> list[float]:
    return list(pyvips.Image.new_from_buffer(data, "")(x, y))


def size(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height
