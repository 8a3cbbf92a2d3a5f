"""Images the PicProcess tests make for themselves, and ways to look at results."""

from __future__ import annotations

import struct
import zlib

import pyvips

RED = (255, 0, 0)
WHITE = (255, 255, 255)


def canvas(width: int, height: int, colour: tuple[int, int, int] = WHITE) -> pyvips.Image:
    return (pyvips.Image.black(width, height) + list(colour)).cast("uchar").copy(interpretation="srgb")


def with_marker(
    image: pyvips.Image, x: int, y: int, size: int, colour: tuple[int, int, int] = RED
) -> pyvips.Image:
    return image.draw_rect(list(colour), x, y, size, size, fill=True)


def marked_png(width: int = 200, height: int = 100) -> bytes:
    """White, with a red 20 px square in the top-left corner."""
    return bytes(with_marker(canvas(width, height), 0, 0, 20).pngsave_buffer())


def photo(width: int, height: int) -> pyvips.Image:
    """Photo-like content: smooth gradients plus grain, so lossy encoders have work to do."""
    xyz = pyvips.Image.xyz(width, height)
    x, y = xyz[0], xyz[1]
    r = x * (255 / width)
    g = y * (255 / height)
    b = ((x + y) * (255 / (width + height)) * 2) % 255
    grain = pyvips.Image.gaussnoise(width, height, sigma=18)
    return (r.bandjoin([g, b]) + grain).cast("uchar").copy(interpretation="srgb")


def photo_jpeg(width: int = 640, height: int = 480, quality: int = 90) -> bytes:
    return bytes(photo(width, height).jpegsave_buffer(Q=quality))


def decode(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def pixel(data_or_image: bytes | pyvips.Image, x: int, y: int) -> list[float]:
    image = decode(data_or_image) if isinstance(data_or_image, bytes) else data_or_image
    return list(image(x, y))


def is_red(value: list[float]) -> bool:
    return value[0] > 200 and value[1] < 60 and value[2] < 60


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height but which holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )
