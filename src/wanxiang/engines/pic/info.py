"""Facts about an encoded image: imageInfo JSON, JPEG quality estimate, average colour."""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

import numpy as np
import pyvips

from wanxiang.engines.pic.bmp import decode_bmp
from wanxiang.engines.pic.decode import (
    DEFAULT_LIMITS,
    ImageInput,
    PixelLimits,
    SourceInfo,
    check_limits,
    classify_error,
    probe,
)

# The IJG standard luminance quantisation table (quality 50), natural order; encoders scale it.
_STD_LUMINANCE = np.array(
    [
        16,
        11,
        10,
        16,
        24,
        40,
        51,
        61,
        12,
        12,
        14,
        19,
        26,
        58,
        60,
        55,
        14,
        13,
        16,
        24,
        40,
        57,
        69,
        56,
        14,
        17,
        22,
        29,
        51,
        87,
        80,
        62,
        18,
        22,
        37,
        56,
        68,
        109,
        103,
        77,
        24,
        35,
        55,
        64,
        81,
        104,
        113,
        92,
        49,
        64,
        78,
        87,
        103,
        121,
        120,
        101,
        72,
        92,
        95,
        98,
        112,
        100,
        103,
        99,
    ],
    dtype=np.float64,
)
_ZIGZAG = np.array(
    [
        0,
        1,
        8,
        16,
        9,
        2,
        3,
        10,
        17,
        24,
        32,
        25,
        18,
        11,
        4,
        5,
        12,
        19,
        26,
        33,
        40,
        48,
        41,
        34,
        27,
        20,
        13,
        6,
        7,
        14,
        21,
        28,
        35,
        42,
        49,
        56,
        57,
        50,
        43,
        36,
        29,
        22,
        15,
        23,
        30,
        37,
        44,
        51,
        58,
        59,
        52,
        45,
        38,
        31,
        39,
        46,
        53,
        60,
        61,
        54,
        47,
        55,
        62,
        63,
    ]
)
_STD_LUMINANCE_ZIGZAG = _STD_LUMINANCE[_ZIGZAG]

CI_FORMAT_NAMES = {
    "jpg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "avif": "AVIF",
    "heif": "HEIF",
    "tiff": "TIFF",
}


def jpeg_quality(data: ImageInput) -> int | None:
    """The IJG quality a JPEG was saved with, estimated from its luminance quantisation table."""
    if isinstance(data, bytes):
        table = _luminance_table(io.BytesIO(data))
    else:
        with data.open("rb") as fh:
            table = _luminance_table(fh)
    if table is None:
        return None
    scale = float((table / _STD_LUMINANCE_ZIGZAG).mean()) * 100
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return int(min(100, max(1, round(quality))))


def _luminance_table(fh: BinaryIO) -> np.ndarray | None:
    """Walks the markers before the first scan, seeking over the segments it does not need (EXIF,
    ICC profiles), so only the header is read."""
    if fh.read(2) != b"\xff\xd8":
        return None
    while True:
        head = fh.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker = head[1]
        length = int.from_bytes(head[2:4], "big")
        if marker == 0xDB:
            segment = fh.read(max(0, length - 2))
            offset = 0
            while offset < len(segment):
                precision, table_id = segment[offset] >> 4, segment[offset] & 0x0F
                size = 128 if precision else 64
                values = segment[offset + 1 : offset + 1 + size]
                if table_id == 0:
                    dtype = ">u2" if precision else "u1"
                    return np.frombuffer(values, dtype=dtype).astype(np.float64)
                offset += 1 + size
        if marker in (0xDA, 0xD9):  # start of scan: no more tables
            return None
            continue
        fh.seek(max(0, length - 2), io.SEEK_CUR)


def average_colour(image: pyvips.Image) -> str:
    """`0xRRGGBB` of the mean colour, from a small copy so large images stay cheap."""
    small = image.thumbnail_image(64) if max(image.width, image.height) > 64 else image
    if small.hasalpha():
        small = small.flatten(background=[255] * (small.bands - 1))
    if small.interpretation not in ("srgb", "b-w"):
        small = small.colourspace("srgb")
    small = small.copy_memory()  # one decode; the per-band means below would each re-read it
    means = [small.extract_band(b).avg() for b in range(small.bands)]
    rgb = means * 3 if len(means) == 1 else means[:3]
    return "0x" + "".join(f"{min(255, max(0, round(v))):02x}" for v in rgb)


def source_average_colour(data: bytes, source: SourceInfo) -> str:
    """Average colour of an encoded input's first frame, shrunk on load so it stays cheap."""
    try:
        if source.format == "bmp":
            return average_colour(decode_bmp(data))
        small = pyvips.Image.thumbnail_buffer(
            data, 64, height=64, no_rotate=True, option_string="fail_on=warning"
        )
        return average_colour(small)
    except pyvips.Error as error:
        raise classify_error(error) from None


def image_info(data: bytes, limits: PixelLimits = DEFAULT_LIMITS) -> dict[str, str]:
    """CI `imageInfo` JSON: format, width, height, size, md5, frame_count, photo_rgb (all strings)."""
    source = probe(data)
    check_limits(source, limits)
    return {
        "format": source.format,
        "width": str(source.width),
        "height": str(source.height),
        "size": str(len(data)),
        "md5": hashlib.md5(data).hexdigest(),
        "frame_count": str(source.pages),
        "photo_rgb": source_average_colour(data, source),
    }
