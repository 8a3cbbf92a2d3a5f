"""Reading an input: sniff the format, check pixel limits from the header alone, then load.

libvips opens images lazily, so `new_from_buffer` reads only the header; pixels are decoded when
the pipeline's result is encoded. The limit check therefore refuses a huge image before any pixel
is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from wanxiang.engines.pic.bmp import decode_bmp, is_bmp, read_bmp_size
from wanxiang.model.errors import JobFailure

# CI's documented limits (§17): 30,000 px per side, 250 M pixels (animated: W×H×frames).
DEFAULT_MAX_PIXELS = 250_000_000
DEFAULT_MAX_SIDE = 30_000

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


DEFAULT_LIMITS = PixelLimits()


@dataclass(frozen=True)
class SourceInfo:
    """What the header says about an input."""

    format: str  # jpg, png, webp, gif, heif, avif, tiff, bmp
    width: int
    height: int  # of one frame
    pages: int  # frames (1 unless animated)
    orientation: int  # EXIF orientation, 0 when absent


def probe(data: bytes) -> SourceInfo:
    """The input's format and size, from its header only."""
    if is_bmp(data):
        width, height = read_bmp_size(data)
        return SourceInfo("bmp", width, height, 1, 0)
    header = _open(data, "")
    fmt = _format_of(header)
    pages = 1
    height = header.height
    if fmt in ANIMATED_FORMATS and "n-pages" in header.get_fields():
        pages = max(1, int(header.get("n-pages")))
        height = header.height
    orientation = int(header.get("orientation")) if "orientation" in header.get_fields() else 0
    return SourceInfo(fmt, header.width, height, pages, orientation)


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


def load_options(source: SourceInfo) -> dict[str, object]:
    """Loader options: every frame of an animation, and refuse truncated data instead of greying it."""
    options: dict[str, object] = {"fail_on": "truncated"}
    if source.format in ANIMATED_FORMATS and source.pages > 1:
        options["n"] = -1
    return options


def option_string(options: dict[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


def load(data: bytes, source: SourceInfo, access: str) -> pyvips.Image:
    """The whole image (all frames stacked, with page-height, when animated)."""
    if source.format == "bmp":
        return decode_bmp(data)
    return _open(data, "", access=access, **load_options(source))


def _open(data: bytes, options: str, **kwargs: object) -> pyvips.Image:
    try:
        return pyvips.Image.new_from_buffer(data, options, **kwargs)
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
