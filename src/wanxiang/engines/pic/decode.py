"""Reading an input: sniff the format, check the decoding budget from the header alone, then load.

libvips opens images lazily, so `new_from_buffer` reads only the header; pixels are decoded when
the pipeline's result is encoded. The budget check therefore refuses a huge image before any pixel
is decoded. The budget (:class:`PixelLimits`):

- side and total pixels over all frames (CI's documented 30,000 px and 250 MP): a pipeline that
  reads top to bottom streams through any image within them in little memory;
- frames: an animation is processed frame by frame, so its time grows with the frame count;
- decoded bytes held in memory: steps that read pixels out of order (rotate, flip, every step of
  an animation) need the whole decoded image at once; above the budget they are refused instead.

A sequential load (the default, for pipelines that read top to bottom) keeps only a window of
decoded lines behind libvips' read point. Steps with a tall reach (a chain of wide blurs) and a
starved libvips thread on a loaded machine can leave a request behind that window: libvips then
fails with "out of order read". :func:`in_order_or_at_random` runs such a pipeline again on a
random-access load, which holds the decoded image (within the decoded-bytes budget).

A header is also no promise: decoding fails on the first libvips *warning* (``fail_on=warning``),
so a 700-byte JPEG whose header claims 20,000 x 12,000 fails at once instead of "succeeding" as a
grey 240 MP image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias, TypeVar

import pyvips

from wanxiang.engines.pic.bmp import decode_bmp, is_bmp, read_bmp_size
from wanxiang.model.errors import JobFailure

T = TypeVar("T")

# CI's documented limits (§17): 30,000 px per side, 250 M pixels (animated: W×H×frames).
DEFAULT_MAX_PIXELS = 250_000_000
DEFAULT_MAX_SIDE = 30_000
DEFAULT_MAX_FRAMES = 1000
# Keeps a process that holds one decoded image under ~300 MB: a 40 MP RGB photo rotates, a
# 240 MP one is refused rather than decoded into 720 MB.
DEFAULT_MAX_DECODED_BYTES = 128 << 20

_LOADER_FORMATS = {
    "jpegload": "jpg",
    "pngload": "png",
    "webpload": "webp",
    "gifload": "gif",
    "heifload": "heif",
    "tiffload": "tiff",
}
ANIMATED_FORMATS = ("gif", "webp")


@dataclass(frozen=True)
class PixelLimits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    max_frames: int = DEFAULT_MAX_FRAMES
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES


DEFAULT_LIMITS = PixelLimits()

# An encoded image: its bytes, or a file holding them. From a file libvips reads what it needs
# itself; bytes are copied into libvips whole on every open (the cost a path avoids).
ImageInput: TypeAlias = bytes | Path


def head_of(data: ImageInput, size: int = 64) -> bytes:
    """The first ``size`` bytes (format sniffing without reading the whole file)."""
    if isinstance(data, bytes):
        return data[:size]
    with data.open("rb") as fh:
        return fh.read(size)


def size_of(data: ImageInput) -> int:
    return len(data) if isinstance(data, bytes) else data.stat().st_size


def bytes_of(data: ImageInput) -> bytes:
    return data if isinstance(data, bytes) else data.read_bytes()


@dataclass(frozen=True)
class SourceInfo:
    """What the header says about an input."""

    format: str  # jpg, png, webp, gif, heif, avif, tiff, bmp
    width: int
    height: int  # of one frame
    pages: int  # frames (1 unless animated)
    orientation: int  # EXIF orientation, 0 when absent
    bands: int = 4  # channels once decoded (animations decode to RGBA)
    # The header libvips read (no pixel decoded): its metadata serves a decode done elsewhere.
    header: pyvips.Image | None = field(default=None, compare=False, repr=False)

    def decoded_bytes(self, width: int | None = None, height: int | None = None) -> int:
        """Bytes of every frame decoded at once (at ``width`` x ``height`` if given), 8 bits a band."""
        return (width or self.width) * (height or self.height) * self.pages * self.bands


def probe(data: ImageInput) -> SourceInfo:
    """The input's format and size, from its header only."""
    head = head_of(data)
    if is_bmp(head):
        width, height = read_bmp_size(head)
        return SourceInfo("bmp", width, height, 1, 0, 4)
    header = _open(data, "")
    fmt = _format_of(header)
    pages = 1
    height = header.height
    if fmt in ANIMATED_FORMATS and "n-pages" in header.get_fields():
        pages = max(1, int(header.get("n-pages")))
        height = header.height
    orientation = int(header.get("orientation")) if "orientation" in header.get_fields() else 0
    bands = 4 if pages > 1 else max(1, min(int(header.bands), 4))
    if header.format not in ("uchar", "char"):
        bands *= 2  # 16-bit PNG/TIFF
    return SourceInfo(fmt, header.width, height, pages, orientation, bands, header)


def check_limits(source: SourceInfo, limits: PixelLimits) -> None:
    if max(source.width, source.height) > limits.max_side:
        raise JobFailure(
            "ImageTooLarge",
            f"image is {source.width}x{source.height}; each side must be at most {limits.max_side} px",
        )
    pixels = source.width * source.height * source.pages
    if pixels > limits.max_pixels:
        raise JobFailure(
            "ImageTooLarge", f"image has {pixels} pixels; at most {limits.max_pixels} are allowed"
        )
    if source.pages > limits.max_frames:
        raise JobFailure(
            "ImageTooLarge", f"image has {source.pages} frames; at most {limits.max_frames} are allowed"
        )


def check_in_memory(source: SourceInfo, limits: PixelLimits, width: int = 0, height: int = 0) -> None:
    """Refuse a step that must hold every decoded pixel at once (``width`` x ``height`` a frame, the
    source size by default) when that exceeds the memory budget."""
    need = source.decoded_bytes(width, height)
    if need > limits.max_decoded_bytes:
        raise JobFailure(
            "ImageTooLarge",
            f"this processing holds the whole decoded image ({need >> 20} MiB) in memory; at most "
            f"{limits.max_decoded_bytes >> 20} MiB is allowed (shrink it first, e.g. with a leading thumbnail)",
        )


def load_options(source: SourceInfo) -> dict[str, object]:
    """Loader options: every frame of an animation, and refuse corrupt data (from the first decoder
    warning: truncated data, a header that promises more than the file holds) instead of greying it."""
    options: dict[str, object] = {"fail_on": "warning"}
    if source.format in ANIMATED_FORMATS and source.pages > 1:
        options["n"] = -1
    return options


def option_string(options: dict[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


def load(data: ImageInput, source: SourceInfo, access: str, **options: object) -> pyvips.Image:
    """The whole image (all frames stacked, with page-height, when animated)."""
    if source.format == "bmp":
        return decode_bmp(bytes_of(data))
    return _open(data, "", access=access, **load_options(source), **options)


def in_order_or_at_random(run: Callable[[bool], T]) -> T:
    """``run(False)``, a pipeline on a sequential load; if libvips had to read that load out of
    order, ``run(True)``: the same pipeline on a random-access load. A job must not fail for
    how libvips' threads were scheduled."""
    try:
        return run(False)
    except pyvips.Error as error:
        if "out of order read" not in str(error):
            raise
    return run(True)


def open_source(data: ImageInput) -> pyvips.Source:
    """A libvips source reading the file (or the bytes). Sources, not file names: libvips caches
    loads by file name, and a worker's ``/proc/self/fd/N`` names a different file every job."""
    if isinstance(data, bytes):
        return pyvips.Source.new_from_memory(data)
    return pyvips.Source.new_from_file(str(data))


def _open(data: ImageInput, options: str, **kwargs: object) -> pyvips.Image:
    try:
        if isinstance(data, bytes):
            return pyvips.Image.new_from_buffer(data, options, **kwargs)
        return pyvips.Image.new_from_source(open_source(data), options, **kwargs)
    except pyvips.Error as error:
        raise classify_error(error) from None


def _format_of(image: pyvips.Image) -> str:
    loader = str(image.get("vips-loader")).removesuffix("_buffer").removesuffix("_source")
    fmt = _LOADER_FORMATS.get(loader)
    if fmt is None:
        raise JobFailure(
            "UnsupportedFormat", f"input format '{loader.removesuffix('load')}' is not supported"
        )
    if fmt == "heif" and "heif-compression" in image.get_fields() and image.get("heif-compression") == "av1":
        return "avif"
    return fmt


def classify_error(error: pyvips.Error) -> JobFailure:
    """A libvips error as a CI failure: unreadable input vs. a processing fault."""
    detail = " ".join(str(error).split("\n")[1:]).strip() or str(error)
    lowered = str(error).lower()
    if "not in a known format" in lowered:
        return JobFailure("InvalidImage", "input is not an image in a supported format")
    decode_hints = ("load", "vipsjpeg", "premature", "truncated", "read error", "decode", "corrupt", "spng")
    if any(hint in lowered for hint in decode_hints):
        return JobFailure("ImageDecodeError", f"input image cannot be decoded: {detail}")
    return JobFailure("ImageProcessFailed", f"image processing failed: {detail}")
