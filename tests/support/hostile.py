"""Small files that claim to be enormous: the inputs a decoding budget must refuse quickly.

Each is built byte by byte (no image library decodes anything to make them), so making them costs
no memory either.
"""

from __future__ import annotations

import struct
import zlib

import pyvips


def small_jpeg(width: int = 64, height: int = 48) -> bytes:
    image = pyvips.Image.black(width, height, bands=3) + [40, 90, 160]
    return bytes(image.cast("uchar").write_to_buffer(".jpg", Q=80))


def lying_jpeg(width: int = 20_000, height: int = 12_000) -> bytes:
    """A few hundred bytes of JPEG whose frame header claims ``width`` x ``height``."""
    data = bytearray(small_jpeg())
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):  # SOF: precision(1) height(2) width(2)
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        at += 2 + length
    raise AssertionError("no SOF marker in the JPEG")


def truncated_jpeg() -> bytes:
    image = pyvips.Image.gaussnoise(800, 600).cast("uchar")
    whole = bytes(image.write_to_buffer(".jpg", Q=90))
    return whole[: len(whole) // 2]


def many_frame_gif(frames: int = 10_000, side: int = 150) -> bytes:
    """An animated GIF of ``frames`` frames on a ``side`` x ``side`` canvas, each frame a one-pixel
    update (about 25 bytes a frame): tiny on disk, ``frames * side**2`` pixels once decoded."""
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", side, side, 0x80, 0, 0)  # global colour table of 2 entries
    out += b"\x00\x00\x00\xff\xff\xff"
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop for ever
    for index in range(frames):
        out += b"\x21\xf9\x04\x04\x02\x00\x00\x00"  # graphic control: delay 2, keep previous frame
        out += b"\x2c" + struct.pack("<HHHHB", index % side, (index // side) % side, 1, 1, 0)
        out += b"\x02\x02\x4c\x01\x00"  # LZW min code 2; clear, pixel 1, end
    out += b"\x3b"
    return bytes(out)


def huge_png(side: int = 50_000) -> bytes:
    """A real, valid ``side`` x ``side`` 1-bit grey PNG (all black): a few hundred KB compressed."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = []
    rows_per_block = max(1, (8 << 20) // len(row))
    for start in range(0, side, rows_per_block):
        parts.append(compressor.compress(row * min(rows_per_block, side - start)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def big_jpeg(width: int = 6000, height: int = 4000) -> bytes:
    """A real 24 MP JPEG (noise, so it does not compress to nothing)."""
    image = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40).cast("uchar")
    image = image.bandjoin([image.rot180(), image.fliphor()])
    return bytes(image.write_to_buffer(".jpg", Q=85))
