"""Encoding the processed image: output format, quality, progressive JPEG, metadata stripping."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from wanxiang.engines.pic.bmp import encode_bmp
from wanxiang.engines.pic.frames import first_frame, frame_count
from wanxiang.engines.pic.operations import Quality
from wanxiang.model.errors import JobFailure

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "avif": "image/avif",
    "heif": "image/heif",
    "tiff": "image/tiff",
}
LOSSY_FORMATS = ("jpg", "webp", "avif", "heif")
DEFAULT_QUALITY = 85  # when neither the rule nor a JPEG source says otherwise


@dataclass(frozen=True)
class EncodeSettings:
    format: str
    quality: int | None  # lossy formats only
    interlace: bool = False
    strip: bool = False
    # Huffman tables fitted to the image: the same pixels in ~10% fewer bytes (what thumbor and
    # CDN image services send); CI names this yjpeg, and every JPEG we write gets it.
    optimize: bool = True


def resolve_quality(rules: list[Quality], source_quality: int | None) -> int | None:
    """CI's quality arithmetic; the last quality operation wins. None = keep the default."""
    quality: int | None = None
    for rule in rules:
        if rule.kind == "absolute":
            quality = rule.value if rule.force or source_quality is None else min(source_quality, rule.value)
        elif rule.kind == "relative":
            base = source_quality if source_quality is not None else 100
            quality = max(1, round(base * rule.value / 100))
        else:
            quality = rule.value if source_quality is None else max(source_quality, rule.value)
    return quality


def encode(image: pyvips.Image, settings: EncodeSettings) -> bytes:
    fmt = settings.format
    keep = {"keep": pyvips.enums.ForeignKeep.NONE} if settings.strip else {}
    quality = settings.quality or DEFAULT_QUALITY
    if fmt == "jpg":
        flat = _flatten(_eight_bit(first_frame(image)))
        return bytes(
            flat.jpegsave_buffer(
                Q=quality, interlace=settings.interlace, optimize_coding=settings.optimize, **keep
            )
        )
    if fmt == "png":
        return bytes(_eight_bit(first_frame(image)).pngsave_buffer(interlace=settings.interlace, **keep))
    if fmt == "webp":
        return bytes(_eight_bit(image).webpsave_buffer(Q=quality, **keep))
    if fmt == "gif":
        return bytes(_eight_bit(image).gifsave_buffer(interlace=settings.interlace, **keep))
    if fmt == "bmp":
        return encode_bmp(_rgb(_flatten(_eight_bit(first_frame(image)))))
    if fmt == "avif":
        return bytes(_eight_bit(first_frame(image)).heifsave_buffer(Q=quality, compression="av1", **keep))
    if fmt == "tiff":
        return bytes(_eight_bit(first_frame(image)).tiffsave_buffer(**keep))
    raise JobFailure("UnsupportedFormat", f"output format '{fmt}' is not supported by this server")


def is_animated(image: pyvips.Image) -> bool:
    return frame_count(image) > 1


def _eight_bit(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation in ("rgb16", "grey16"):
        image = image.colourspace("srgb" if image.interpretation == "rgb16" else "b-w")
    elif image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    return image if image.format == "uchar" else image.cast("uchar")


def _flatten(image: pyvips.Image) -> pyvips.Image:
    # JPEG and BMP have no alpha: transparent areas become white, as browsers show them
    return image.flatten(background=[255] * (image.bands - 1)) if image.hasalpha() else image


def _rgb(image: pyvips.Image) -> pyvips.Image:
    image = _eight_bit(image)
    return image.colourspace("srgb") if image.bands < 3 else image.extract_band(0, n=3)
