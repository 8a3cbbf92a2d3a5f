"""process_image: a ProcessRule applied to image bytes, one small step per operation.

Order: parse the rule, read the header and check pixel limits, load (with shrink-on-load when the
rule starts with a thumbnail), run the pixel steps in rule order, then encode with the settings the
encoding operations (format, quality, interlace, strip, size-limit) asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyvips

from wanxiang.engines.pic import adjust, geometry
from wanxiang.engines.pic.decode import (
    DEFAULT_LIMITS,
    ImageInput,
    PixelLimits,
    SourceInfo,
    bytes_of,
    check_in_memory,
    check_limits,
    classify_error,
    in_order_or_at_random,
    load,
    load_options,
    open_source,
    option_string,
    probe,
    size_of,
)
from wanxiang.engines.pic.encode import CONTENT_TYPES, LOSSY_FORMATS, EncodeSettings, encode, resolve_quality
from wanxiang.engines.pic.frames import frame_count, join_frames, page_height, split_frames
from wanxiang.engines.pic.info import jpeg_quality
from wanxiang.engines.pic.operations import (
    AutoOrient,
    Blur,
    Bright,
    CompressGif,
    Contrast,
    Crop,
    Cut,
    Flip,
    Format,
    Grayscale,
    IgnoreError,
    ImageWatermark,
    InscribedCircle,
    Interlace,
    Operation,
    Quality,
    Rotate,
    RoundedCorners,
    Sharpen,
    SizeLimit,
    SmartCrop,
    Strip,
    Style,
    TextWatermark,
    Thumbnail,
)
from wanxiang.engines.pic.rule import RuleError, parse_rule
from wanxiang.engines.pic.turbo import decode_shrunk
from wanxiang.engines.pic.watermark import apply_watermark
from wanxiang.model.errors import JobFailure

__all__ = ["PixelLimits", "ProcessedImage", "process_image", "process_operations"]

ReadObject = Callable[[str], bytes]
_ENCODING_OPS = (Format, Quality, Interlace, Strip, SizeLimit, IgnoreError)
# steps that read pixels out of top-to-bottom order need a random-access load
_RANDOM_ACCESS_OPS = (Rotate, AutoOrient, Flip, SmartCrop)
# failures that `ignore-error/1` turns into "return the original"
_IGNORABLE = ("ImageTooLarge", "InvalidArgument")


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    format: str  # jpg, png, webp, gif, bmp, avif, tiff
    width: int
    height: int  # of one frame
    quality: int | None  # lossy formats only
    content_type: str


@dataclass
class _Context:
    source: SourceInfo
    limits: PixelLimits
    read_object: ReadObject | None
    steps: dict[type, Callable[[pyvips.Image, Any], pyvips.Image]] = field(default_factory=dict)
    # Called between operations and between the encodes of a size-limit search: where a job
    # that was cancelled stops (it raises).
    between: Callable[[], None] = lambda: None
    # Load for random access even when every step reads top to bottom (see in_order_or_at_random).
    random_access: bool = False


def process_image(
    data: ImageInput,
    rule: str,
    *,
    read_object: ReadObject | None = None,
    limits: PixelLimits = DEFAULT_LIMITS,
    parsed: Sequence[Operation] | None = None,
    between: Callable[[], None] | None = None,
) -> ProcessedImage:
    """Apply ``rule`` to the image ``data`` (bytes, or better a file: libvips then reads only what
    it needs instead of a copy of every byte); raise JobFailure(code, message) when it cannot.

    ``parsed``, when given, is ``rule`` already parsed (a job's plan), so it is not parsed again.
    ``between`` is called between steps (a job's cancel check).
    """
    operations = _parse(rule) if parsed is None else list(parsed)
    return process_operations(data, operations, read_object=read_object, limits=limits, between=between)


def process_operations(
    data: ImageInput,
    operations: Sequence[Operation],
    *,
    read_object: ReadObject | None = None,
    limits: PixelLimits = DEFAULT_LIMITS,
    between: Callable[[], None] | None = None,
) -> ProcessedImage:
    """Apply a parsed rule (its styles expanded) to the image bytes in hand."""
    operations = _without_styles(list(operations))
    ignore_error = any(isinstance(op, IgnoreError) for op in operations)
    source = probe(data)
    try:
        check_limits(source, limits)
        ctx = _Context(source, limits, read_object)
        if between is not None:
            ctx.between = between

        def run(random_access: bool) -> ProcessedImage:
            ctx.random_access = random_access
            return _process(data, source, operations, ctx)

        return in_order_or_at_random(run)
    except JobFailure as failure:
        if ignore_error and failure.code in _IGNORABLE:
            return _original(data, source)
        raise
    except pyvips.Error as error:
        raise classify_error(error) from None


def _parse(rule: str) -> list[Operation]:
    try:
        return parse_rule(rule)
    except RuleError as error:
        raise JobFailure("InvalidArgument", error.message) from None


def _without_styles(operations: list[Operation]) -> list[Operation]:
    if any(isinstance(op, Style) for op in operations):
        raise JobFailure("InvalidArgument", "styles are not supported")
    return operations


def _process(data: ImageInput, source: SourceInfo, operations: list[Operation], ctx: _Context) -> ProcessedImage:
    pixel_ops: list[Operation] = [op for op in operations if not isinstance(op, _ENCODING_OPS)]
    image, pixel_ops = _open(data, source, pixel_ops, ctx)
    for op in pixel_ops:
        ctx.between()
        image = _step(image, op, ctx)
    _check_output(image, ctx.limits)
    settings = _settings(operations, source, data)
    size_limit = next((op for op in reversed(operations) if isinstance(op, SizeLimit)), None)
    if size_limit is not None and settings.format in LOSSY_FORMATS:
        return _encode_within(image, settings, size_limit, data, source, ctx.between)
    ctx.between()
    return _result(encode(image, settings), image, settings)


def _open(
    data: ImageInput, source: SourceInfo, pixel_ops: list[Operation], ctx: _Context
) -> tuple[pyvips.Image, list[Operation]]:
    """The loaded image and the steps still to run; a leading thumbnail is done while loading."""
    first = pixel_ops[0] if pixel_ops else None
    if isinstance(first, Thumbnail) and source.format != "bmp":
        width, height = _thumbnail_target(source.width, source.height, first, ctx.limits)
        image = _thumbnail_on_load(data, source, width, height, ctx.limits)
        rest = pixel_ops[1:]
        if source.pages > 1 or ctx.random_access or any(isinstance(op, _RANDOM_ACCESS_OPS) for op in rest):
            check_in_memory(source, ctx.limits, width, height)
            # the shrunk result is small; holding it lets later steps read it in any order
            image = image.copy_memory()
        return geometry.pad(image, first), rest
    random = source.pages > 1 or ctx.random_access or any(isinstance(op, _RANDOM_ACCESS_OPS) for op in pixel_ops)
    if random:
        check_in_memory(source, ctx.limits)
    return load(data, source, "random" if random else "sequential"), pixel_ops


def jpeg_shrink(source: SourceInfo, width: int, height: int) -> int:
    """The JPEG decoder's own downscale (1/2, 1/4, 1/8: it skips the DCT coefficients it would
    throw away) that still leaves at least the target on both sides. libvips' thumbnail keeps 2x
    the target before its own resize and so decodes a 12 MP photo bound for 400 px at 1/4; the
    target allows 1/8, as thumbor (PIL's draft mode) does."""
    if source.format != "jpg" or source.pages > 1:
        return 1
    factor = min(source.width / max(1, width), source.height / max(1, height))
    return next((shrink for shrink in (8, 4, 2) if factor >= shrink), 1)


def _thumbnail_on_load(
    data: ImageInput, source: SourceInfo, width: int, height: int, limits: PixelLimits
) -> pyvips.Image:
    shrink = jpeg_shrink(source, width, height)
    if shrink > 1:
        decoded = None if source.header is None else decode_shrunk(data, source.header, shrink, limits.max_decoded_bytes)
        loaded = decoded or load(data, source, "sequential", shrink=shrink)
        return loaded.thumbnail_image(width, height=height, size="force", no_rotate=True)
    # loader options (fail_on, n) only reach the loader through option_string
    options = option_string(load_options(source))
    if isinstance(data, bytes):
        return pyvips.Image.thumbnail_buffer(
            data, width, height=height, size="force", no_rotate=True, option_string=options
        )
    return pyvips.Image.thumbnail_source(
        open_source(data), width, height=height, size="force", no_rotate=True, option_string=options
    )


def _thumbnail_target(width: int, height: int, op: Thumbnail, limits: PixelLimits) -> tuple[int, int]:
    target = geometry.thumbnail_target(width, height, op)
    if max(target) > limits.max_side or target[0] * target[1] > limits.max_pixels:
        raise JobFailure(
            "ImageTooLarge", f"thumbnail result {target[0]}x{target[1]} exceeds the pixel limits"
        )
    return target


def _step(image: pyvips.Image, op: Operation, ctx: _Context) -> pyvips.Image:
    if isinstance(op, Thumbnail):
        width, height = _thumbnail_target(image.width, page_height(image), op, ctx.limits)
        return geometry.pad(geometry.resize_to(image, width, height), op)
    if isinstance(op, (ImageWatermark, TextWatermark)):
        return apply_watermark(image, op, ctx.read_object)
    step = _STEPS.get(type(op))
    if step is None:
        raise JobFailure("InvalidArgument", f"operation {type(op).__name__} is not supported")
    return step(image, op)


def compress_gif(image: pyvips.Image, op: CompressGif) -> pyvips.Image:
    """Keep at most N evenly spaced frames (1 means CI's default of 30)."""
    wanted = 30 if op.frames == 1 else op.frames
    count = frame_count(image)
    if count <= wanted:
        return image
    frames = split_frames(image)
    picks = [round(i * count / wanted) for i in range(wanted)]
    kept = join_frames([frames[i] for i in picks], image)
    if "delay" in image.get_fields():
        # stretch the delays so the animation keeps its running time
        delays = list(image.get("delay"))
        kept.set_type(
            pyvips.GValue.array_int_type,
            "delay",
            [sum(delays[p:q]) for p, q in zip(picks, [*picks[1:], count], strict=True)],
        )
    return kept


_STEPS: dict[type, Callable[[pyvips.Image, Any], pyvips.Image]] = {
    Cut: geometry.cut,
    Crop: geometry.crop,
    SmartCrop: geometry.smart_crop,
    InscribedCircle: geometry.inscribed_circle,
    RoundedCorners: geometry.rounded_corners,
    Rotate: geometry.rotate,
    AutoOrient: geometry.auto_orient,
    Flip: geometry.flip,
    Blur: adjust.blur,
    Bright: adjust.bright,
    Contrast: adjust.contrast,
    Sharpen: adjust.sharpen,
    Grayscale: adjust.grayscale,
    CompressGif: compress_gif,
}


def _check_output(image: pyvips.Image, limits: PixelLimits) -> None:
    width, height = image.width, page_height(image)
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise JobFailure("ImageTooLarge", f"result {width}x{height} exceeds the pixel limits")


def _settings(operations: list[Operation], source: SourceInfo, data: ImageInput) -> EncodeSettings:
    formats = [op.format for op in operations if isinstance(op, Format)]
    fmt = formats[-1] if formats else _default_format(source.format)
    source_quality = jpeg_quality(data) if source.format == "jpg" else None
    quality = resolve_quality([op for op in operations if isinstance(op, Quality)], source_quality)
    if quality is None and fmt in ("jpg", "yjpeg") and source_quality is not None:
        quality = source_quality  # a JPEG keeps its quality unless told otherwise
    interlace = [op.enabled for op in operations if isinstance(op, Interlace)]
    return EncodeSettings(
        format="jpg" if fmt == "yjpeg" else fmt,
        quality=quality,
        interlace=bool(interlace and interlace[-1]),
        strip=any(isinstance(op, Strip) for op in operations),
    )


def _default_format(source_format: str) -> str:
    # HEIF decodes here but has no HEVC encoder in the bundled libvips
    return "jpg" if source_format == "heif" else source_format


def _encode_within(
    image: pyvips.Image,
    settings: EncodeSettings,
    limit: SizeLimit,
    data: ImageInput,
    source: SourceInfo,
    between: Callable[[], None],
) -> ProcessedImage:
    """The highest quality whose encoding fits in the size limit (binary search over Q)."""
    image = image.copy_memory()  # encoded several times: decode the source once
    quality = settings.quality or 85
    best = encode(image, _with_quality(settings, quality))
    if len(best) > limit.max_bytes:
        low, high = 1, quality - 1
        best_q = 1
        best = encode(image, _with_quality(settings, 1))
        while low <= high:
            between()
            mid = (low + high) // 2
            candidate = encode(image, _with_quality(settings, mid))
            if len(candidate) <= limit.max_bytes:
                best, best_q, low = candidate, mid, mid + 1
            else:
                high = mid - 1
        quality = best_q
    if limit.keep_original and len(best) >= size_of(data):
        return _original(data, source)
    return _result(best, image, _with_quality(settings, quality))


def _with_quality(settings: EncodeSettings, quality: int) -> EncodeSettings:
    return EncodeSettings(settings.format, quality, settings.interlace, settings.strip, settings.optimize)


def _result(encoded: bytes, image: pyvips.Image, settings: EncodeSettings) -> ProcessedImage:
    lossy = settings.format in LOSSY_FORMATS
    quality = (settings.quality or 85) if lossy else None
    return ProcessedImage(
        encoded, settings.format, image.width, page_height(image), quality, CONTENT_TYPES[settings.format]
    )


def _original(data: ImageInput, source: SourceInfo) -> ProcessedImage:
    quality = jpeg_quality(data) if source.format == "jpg" else None
    return ProcessedImage(
        bytes_of(data),
        source.format,
        source.width,
        source.height,
        quality,
        CONTENT_TYPES.get(source.format, "application/octet-stream"),
    )
