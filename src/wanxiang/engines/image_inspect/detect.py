"""Abnormal-image detection (CI's ImageInspect): does a file carry another file behind its image?

The threat is image hosting abuse: a video stream (usually MPEG-TS) or an archive appended after a
valid image, so that the object still previews as a picture. We walk the container's own structure
to the byte where the image really ends (JPEG markers and entropy data, PNG chunks, GIF blocks, the
RIFF size of WebP, the BMP header's file size), then identify what follows. A file that is a TS
stream from byte 0, whatever its name, is suspicious too.

Pure: bytes in, a frozen verdict out; no I/O. Each walk is linear in the file and allocation-free
beyond slices, so a hostile file costs one pass.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TS_PACKET = 188
# A trailer this long that matches no known signature is still reported (as "Unknown"): a few
# bytes of padding are common after image ends, tens of kilobytes are not.
UNKNOWN_TRAILER_MIN = 16 << 10
SIGNATURE_WINDOW = 4096  # where in the trailer a known signature may start (after junk or padding)


@dataclass(frozen=True)
class Inspection:
    pic_size: int
    pic_type: str  # "jpeg", "png", "gif", "bmp", "webp"; "" when the file is no image we know
    suspicious: bool
    suspicious_begin: int = -1
    suspicious_end: int = -1
    suspicious_type: str = ""

    @property
    def suspicious_size(self) -> int:
        return self.suspicious_end - self.suspicious_begin + 1 if self.suspicious else 0


class NotAnImage(ValueError):
    """The bytes are neither an image format ImageInspect reads nor a bare TS stream."""


def inspect(data: bytes) -> Inspection:
    size = len(data)
    try:
        pic_type, end = image_end(data)
    except NotAnImage:
        if _is_ts(data, 0):
            return Inspection(size, "", True, 0, size - 1, "MPEG-TS")
        raise
    found = _identify_trailer(data, end)
    if found is None:
        return Inspection(size, pic_type, False)
    begin, kind = found
    return Inspection(size, pic_type, True, begin, size - 1, kind)


def image_end(data: bytes) -> tuple[str, int]:
    """The image format and the offset just past the image's last byte (``len(data)`` at most)."""
    for pic_type, magic, walk in _FORMATS:
        if data.startswith(magic):
            return pic_type, min(walk(data), len(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", min(8 + struct.unpack_from("<I", data, 4)[0] + (data[4] & 1), len(data))
    raise NotAnImage("the object is not a JPEG, PNG, GIF, BMP or WebP image")


def _jpeg_end(data: bytes) -> int:
    n, i = len(data), 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return i  # lost sync: what follows is not JPEG structure
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        length = struct.unpack_from(">H", data, i + 2)[0]
        i += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            i = _scan_entropy(data, i)
    return n


def _scan_entropy(data: bytes, i: int) -> int:
    n = len(data)
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= n:
            return n
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            i += 1 if following == 0xFF else 2
            continue
        return i


def _png_end(data: bytes) -> int:
    n, i = len(data), 8
    while i + 12 <= n:
        length = struct.unpack_from(">I", data, i)[0]
        chunk_type = data[i + 4 : i + 8]
        i += 12 + length
        if chunk_type == b"IEND":
            return i
    return n


def _gif_end(data: bytes) -> int:
    n = len(data)
    if n < 13:
        return n
    i = 13
    flags = data[10]
    if flags & 0x80:
        i += 3 << ((flags & 7) + 1)
    while i < n:
        block = data[i]
        if block == 0x3B:  # trailer
            return i + 1
        if block == 0x21:  # extension: label, then sub-blocks
            i = _skip_sub_blocks(data, i + 2)
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, sub-blocks
            if i + 10 > n:
                return n
            local = data[i + 9]
            i += 10
            if local & 0x80:
                i += 3 << ((local & 7) + 1)
            i = _skip_sub_blocks(data, i + 1)
        else:
            return i
    return n


def _skip_sub_blocks(data: bytes, i: int) -> int:
    n = len(data)
    while i < n:
        length = data[i]
        i += 1 + length
        if length == 0:
            return i
    return n


def _bmp_end(data: bytes) -> int:
    if len(data) < 6:
        return len(data)
    declared = struct.unpack_from("<I", data, 2)[0]
    return declared if declared >= 26 else len(data)


_FORMATS = (
    ("jpeg", b"\xff\xd8\xff", _jpeg_end),
    ("png", b"\x89PNG\r\n\x1a\n", _png_end),
    ("gif", b"GIF87a", _gif_end),
    ("gif", b"GIF89a", _gif_end),
    ("bmp", b"BM", _bmp_end),
)

# Signatures of what is hidden behind images in the wild, longest first where prefixes overlap.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7Z"),
    (b"\x1f\x8b\x08", "GZIP"),
    (b"%PDF-", "PDF"),
    (b"\x7fELF", "ELF"),
    (b"<?php", "PHP"),
    (b"<script", "HTML"),
    (b"<html", "HTML"),
    (b"<!DOCTYPE html", "HTML"),
    (b"\x1aE\xdf\xa3", "MATROSKA"),
    (b"ID3", "MP3"),
    (b"OggS", "OGG"),
    (b"fLaC", "FLAC"),
)


def _identify_trailer(data: bytes, end: int) -> tuple[int, str] | None:
    n = len(data)
    if end >= n:
        return None
    limit = min(n, end + SIGNATURE_WINDOW)
    for start in range(end, limit):
        if data[start] == 0x47 and _is_ts(data, start):
            return start, "MPEG-TS"
    window = data[end:limit]
    hits = [(window.find(sig), kind) for sig, kind in _SIGNATURES]
    located = [(offset, kind) for offset, kind in hits if offset >= 0]
    pe = _find_pe(window)
    if pe >= 0:
        located.append((pe, "PE"))
    if located:
        offset, kind = min(located)
        return end + offset, kind
    mp4 = window.find(b"ftyp")
    if mp4 >= 4:
        return end + mp4 - 4, "MP4"
    if n - end >= UNKNOWN_TRAILER_MIN and data[end:].strip(b"\x00 \r\n\t"):
        return end, "Unknown"
    return None


def _find_pe(window: bytes) -> int:
    """A Windows executable: "MZ" alone is too common in noise, so its PE header must be where the
    DOS header points."""
    at = window.find(b"MZ")
    while 0 <= at <= len(window) - 64:
        pe_offset = struct.unpack_from("<I", window, at + 0x3C)[0]
        if window[at + pe_offset : at + pe_offset + 4] == b"PE\0\0":
            return at
        at = window.find(b"MZ", at + 1)
    return -1


def _is_ts(data: bytes, start: int) -> bool:
    """Three sync bytes 188 apart (or a whole short stream of them) mark an MPEG transport stream."""
    packets = min(3, (len(data) - start) // TS_PACKET)
    if packets < 2:
        return False
    return all(data[start + k * TS_PACKET] == 0x47 for k in range(packets))
