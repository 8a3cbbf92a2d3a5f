"""BMP in and out, written here because the bundled libvips has neither a BMP loader nor saver.

Writes 24-bit bottom-up BI_RGB (what every viewer reads); reads 24/32-bit BI_RGB/BI_BITFIELDS and
8-bit paletted files, which covers what cameras, editors and browsers produce.
"""

from __future__ import annotations

import struct

import numpy as np
import pyvips

from wanxiang.model.errors import JobFailure

_FILE_HEADER = struct.Struct("<2sIHHI")
_INFO_HEADER = struct.Struct("<IiiHHIIiiII")


def is_bmp(data: bytes) -> bool:
    return len(data) >= 26 and data[:2] == b"BM"


def read_bmp_size(data: bytes) -> tuple[int, int]:
    if len(data) < _FILE_HEADER.size + _INFO_HEADER.size:
        raise JobFailure("ImageDecodeError", "BMP header is truncated")
    _, width, height, *_ = _INFO_HEADER.unpack_from(data, _FILE_HEADER.size)
    return abs(width), abs(height)


def decode_bmp(data: bytes) -> pyvips.Image:
    """An sRGB libvips image (3 or 4 bands) of an uncompressed BMP."""
    if len(data) < _FILE_HEADER.size + _INFO_HEADER.size:
        raise JobFailure("ImageDecodeError", "BMP header is truncated")
    _, _, _, _, offset = _FILE_HEADER.unpack_from(data, 0)
    header_size, width, height, _, bits, compression, *_ = _INFO_HEADER.unpack_from(data, _FILE_HEADER.size)
    top_down = height < 0
    height = abs(height)
    if compression not in (0, 3) or bits not in (8, 24, 32):
        raise JobFailure("UnsupportedFormat", f"BMP with {bits}-bit pixels, compression {compression}")
    stride = (width * bits // 8 + 3) & ~3
    if len(data) < offset + stride * height:
        raise JobFailure("ImageDecodeError", "BMP pixel data is truncated")
    rows = np.frombuffer(data, dtype=np.uint8, count=stride * height, offset=offset).reshape(height, stride)
    if bits == 8:
        palette_at = _FILE_HEADER.size + header_size
        colours = (offset - palette_at) // 4
        palette = np.frombuffer(data, dtype=np.uint8, count=colours * 4, offset=palette_at).reshape(-1, 4)
        pixels = palette[rows[:, :width]][:, :, 2::-1]
    else:
        size = bits // 8
        bgr = rows[:, : width * size].reshape(height, width, size)
        # 32-bit BMPs mostly leave the fourth byte unused (zero), so alpha is not trusted
        pixels = bgr[:, :, 2::-1]
    if not top_down:
        pixels = pixels[::-1]
    array = np.ascontiguousarray(pixels)
    image = pyvips.Image.new_from_memory(array.tobytes(), width, height, 3, "uchar")
    return image.copy(interpretation="srgb")


def encode_bmp(image: pyvips.Image) -> bytes:
    """A 24-bit BMP of an 8-bit sRGB (3-band) image."""
    width, height = image.width, image.height
    pixels = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(height, width, image.bands))[
        :, :, 2::-1
    ][::-1]
    stride = (width * 3 + 3) & ~3
    rows = np.zeros((height, stride), dtype=np.uint8)
    rows[:, : width * 3] = pixels.reshape(height, width * 3)
    body = rows.tobytes()
    offset = _FILE_HEADER.size + _INFO_HEADER.size
    file_header = _FILE_HEADER.pack(b"BM", offset + len(body), 0, 0, offset)
    info_header = _INFO_HEADER.pack(_INFO_HEADER.size, width, height, 1, 24, 0, len(body), 2835, 2835, 0, 0)
    return file_header + info_header + body
