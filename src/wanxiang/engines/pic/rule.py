"""ProcessRule text -> typed operations (CI §18): `imageMogr2/...`, `watermark/1|2/...`, `style/<name>`,
chained with `|`. Pure: no pixels here, only validation that names the bad part."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote

from wanxiang.engines.pic.operations import (
    OUTPUT_FORMATS,
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
    Thumbnail,
)
from wanxiang.engines.pic.rule_values import RuleError, color_value, decode_base64, gravity_value, int_value
from wanxiang.engines.pic.rule_watermark import parse_watermark, watermark_key


def parse_rule(rule: str) -> list[Operation]:
    """All operations of ``rule`` in the order they apply (parts joined by ``|`` chain)."""
    if not rule.strip():
        raise RuleError("empty rule")
    operations: list[Operation] = []
    for part in rule.strip().split("|"):
        operations.extend(_parse_part(part.strip()))
    return operations


def _parse_part(part: str) -> list[Operation]:
    tokens = [t for t in part.split("/") if t != ""]
    if not tokens:
        raise RuleError("empty rule part between '|'")
    verb, rest = tokens[0], tokens[1:]
    if verb == "imageMogr2":
        return _parse_mogr2(rest)
    if verb == "watermark":
        return [parse_watermark(rest)]
    if verb == "style":
        if len(rest) != 1:
            raise RuleError("style: expected style/<name>")
        return [Style(rest[0])]
    raise RuleError(f"unknown processing verb '{verb}'")


# ---------------------------------------------------------------- imageMogr2

_NO_VALUE: dict[str, Callable[[], Operation]] = {"auto-orient": AutoOrient, "strip": Strip}
_CROP_MODIFIERS = ("gravity", "dx", "dy")
_THUMBNAIL_MODIFIERS = ("pad", "color")


def _parse_mogr2(tokens: list[str]) -> list[Operation]:
    if not tokens:
        raise RuleError("imageMogr2: no operation")
    operations: list[Operation] = []
    modifiers: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        name = tokens[i]
        if name in _NO_VALUE:
            operations.append(_NO_VALUE[name]())
            # some clients write `strip/1`; a lone 0/1 after a flag belongs to it
            i += 2 if i + 1 < len(tokens) and tokens[i + 1] in ("0", "1") else 1
            continue
        if name not in _MOGR2_PARSERS and name not in _CROP_MODIFIERS + _THUMBNAIL_MODIFIERS:
            raise RuleError(f"imageMogr2: unknown operation '{name}'")
        if i + 1 >= len(tokens):
            raise RuleError(f"imageMogr2: missing value for '{name}'")
        value = unquote(tokens[i + 1])
        if name in _MOGR2_PARSERS:
            operation = _MOGR2_PARSERS[name](value)
            if operation is not None:
                operations.append(operation)
        else:
            modifiers[name] = value
        i += 2
    return _apply_modifiers(operations, modifiers)


def _apply_modifiers(operations: list[Operation], modifiers: dict[str, str]) -> list[Operation]:
    crop_fields = {k: modifiers[k] for k in _CROP_MODIFIERS if k in modifiers}
    if crop_fields:
        index = _last_index(operations, Crop)
        if index is None:
            raise RuleError(f"imageMogr2: '{next(iter(crop_fields))}' needs a crop operation")
        crop = cast(Crop, operations[index])
        operations[index] = dataclasses.replace(
            crop,
            gravity=gravity_value("imageMogr2", crop_fields.get("gravity", crop.gravity)),
            dx=int_value("imageMogr2", "dx", crop_fields.get("dx", str(crop.dx)), low=-99999),
            dy=int_value("imageMogr2", "dy", crop_fields.get("dy", str(crop.dy)), low=-99999),
        )
    thumb_fields = {k: modifiers[k] for k in _THUMBNAIL_MODIFIERS if k in modifiers}
    if thumb_fields:
        index = _last_index(operations, Thumbnail)
        thumb = cast(Thumbnail, operations[index]) if index is not None else None
        if thumb is None or thumb.mode not in ("fit", "shrink", "enlarge", "force", "fill"):
            raise RuleError("imageMogr2: 'pad' needs a thumbnail/<W>x<H>")
        assert index is not None
        pad = thumb_fields.get("pad", "1" if "color" in thumb_fields else "0")
        if pad not in ("0", "1"):
            raise RuleError(f"imageMogr2: bad pad value '{pad}' (expected 0 or 1)")
        color = thumb_fields.get("color")
        operations[index] = dataclasses.replace(
            thumb,
            pad=pad == "1",
            pad_color=color_value("imageMogr2", decode_base64("color", color)) if color else thumb.pad_color,
        )
    return operations


def _last_index(operations: list[Operation], kind: type) -> int | None:
    for index in range(len(operations) - 1, -1, -1):
        if isinstance(operations[index], kind):
            return index
    return None


_NUM = r"(\d+(?:\.\d+)?)"
_THUMBNAIL_FORMS: list[tuple[str, str]] = [
    (rf"!{_NUM}p", "percent"),
    (rf"!{_NUM}px", "percent_width"),
    (rf"!x{_NUM}p", "percent_height"),
    (r"(\d+)x", "width"),
    (r"x(\d+)", "height"),
    (r"(\d+)x(\d+)", "fit"),
    (r"!(\d+)x(\d+)r", "fill"),
    (r"(\d+)x(\d+)!", "force"),
    (r"(\d+)x(\d+)>", "shrink"),
    (r"(\d+)x(\d+)<", "enlarge"),
    (r"(\d+)@", "area"),
]


def _thumbnail(value: str) -> Thumbnail:
    for pattern, mode in _THUMBNAIL_FORMS:
        match = re.fullmatch(pattern, value)
        if not match:
            continue
        numbers = [float(g) for g in match.groups()]
        if any(n <= 0 for n in numbers):
            raise RuleError(f"imageMogr2: thumbnail '{value}' must be greater than 0")
        if mode.startswith("percent"):
            if numbers[0] > 1000:
                raise RuleError(f"imageMogr2: thumbnail '{value}' percentage must be 1-1000")
            scale = numbers[0]
            width = scale if mode in ("percent", "percent_width") else None
            height = scale if mode in ("percent", "percent_height") else None
            return Thumbnail(cast(Any, mode), width=width, height=height)
        if mode == "area":
            return Thumbnail("area", area=int(numbers[0]))
        if any(n > 30000 for n in numbers):
            raise RuleError(f"imageMogr2: thumbnail '{value}' is larger than 30000 px")
        if mode == "width":
            return Thumbnail("width", width=numbers[0])
        if mode == "height":
            return Thumbnail("height", height=numbers[0])
        return Thumbnail(cast(Any, mode), width=numbers[0], height=numbers[1])
    raise RuleError(f"imageMogr2: bad thumbnail '{value}'")


def _cut(value: str) -> Cut:
    match = re.fullmatch(r"(\d+)x(\d+)x(\d+)x(\d+)", value)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        raise RuleError(f"imageMogr2: bad cut '{value}' (expected <w>x<h>x<dx>x<dy>)")
    w, h, dx, dy = (int(g) for g in match.groups())
    return Cut(w, h, dx, dy)


def _crop(value: str) -> Crop:
    offset = re.fullmatch(r"!(\d+)x(\d+)([a-])(\d+)([a-])(\d+)", value)
    if offset:
        w, h = int(offset.group(1)), int(offset.group(2))
        dx = int(offset.group(4)) * (1 if offset.group(3) == "a" else -1)
        dy = int(offset.group(6)) * (1 if offset.group(5) == "a" else -1)
        return Crop(w or None, h or None, "northwest", dx, dy)
    match = re.fullmatch(r"(\d*)x(\d*)", value)
    if not match or not (match.group(1) or match.group(2)):
        raise RuleError(f"imageMogr2: bad crop '{value}' (expected <W>x, x<H> or <W>x<H>)")
    width = int(match.group(1)) if match.group(1) else None
    height = int(match.group(2)) if match.group(2) else None
    if width == 0 or height == 0:
        raise RuleError(f"imageMogr2: crop '{value}' must be greater than 0")
    return Crop(width, height)


def _scrop(value: str) -> SmartCrop:
    match = re.fullmatch(r"(\d+)x(\d+)", value)
    if not match or "0" in (match.group(1), match.group(2)):
        raise RuleError(f"imageMogr2: bad scrop '{value}' (expected <W>x<H>)")
    return SmartCrop(int(match.group(1)), int(match.group(2)))


def _flip(value: str) -> Flip:
    if value not in ("vertical", "horizontal"):
        raise RuleError(f"imageMogr2: bad flip '{value}' (expected vertical or horizontal)")
    return Flip(cast(Any, value))


def _format(value: str) -> Format:
    fmt = value.lower()
    fmt = "jpg" if fmt == "jpeg" else fmt
    if fmt not in OUTPUT_FORMATS:
        raise RuleError(f"imageMogr2: unsupported format '{value}'")
    return Format(fmt)


def _quality(kind: str, name: str) -> Callable[[str], Quality]:
    def parse(value: str) -> Quality:
        force = value.endswith("!")
        number = value[:-1] if force else value
        q = int_value("imageMogr2", name, number, 0, 100)
        return Quality(q, cast(Any, kind), force)

    return parse


def _blur(value: str) -> Blur:
    match = re.fullmatch(r"(\d+)x(\d+(?:\.\d+)?)", value)
    if not match:
        raise RuleError(f"imageMogr2: bad blur '{value}' (expected <radius>x<sigma>)")
    radius, sigma = int(match.group(1)), float(match.group(2))
    if not 1 <= radius <= 50 or sigma <= 0:
        raise RuleError(f"imageMogr2: blur '{value}' out of range (radius 1-50, sigma > 0)")
    return Blur(radius, sigma)


def _size_limit(value: str) -> SizeLimit:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM])(!?)", value)
    if not match or float(match.group(1)) <= 0:
        raise RuleError(f"imageMogr2: bad size-limit '{value}' (expected <n>k or <n>m)")
    unit = 1024 if match.group(2).lower() == "k" else 1024 * 1024
    return SizeLimit(int(float(match.group(1)) * unit), keep_original=match.group(3) == "!")


def _switch(name: str, make: Callable[[bool], Operation]) -> Callable[[str], Operation]:
    def parse(value: str) -> Operation:
        if value not in ("0", "1"):
            raise RuleError(f"imageMogr2: bad {name} value '{value}' (expected 0 or 1)")
        return make(value == "1")

    return parse


def _ignore_error(value: str) -> Operation | None:
    if value not in ("0", "1"):
        raise RuleError(f"imageMogr2: bad ignore-error value '{value}' (expected 0 or 1)")
    return IgnoreError() if value == "1" else None


def _rotate(value: str) -> Rotate:
    try:
        degrees = float(value)
    except ValueError:
        raise RuleError(f"imageMogr2: bad rotate '{value}' (expected degrees 0-360)") from None
    if not 0 <= degrees <= 360:
        raise RuleError(f"imageMogr2: rotate '{value}' out of range 0-360")
    return Rotate(degrees)


_MOGR2_PARSERS: dict[str, Callable[[str], Operation | None]] = {
    "thumbnail": _thumbnail,
    "cut": _cut,
    "crop": _crop,
    "scrop": _scrop,
    "iradius": lambda v: InscribedCircle(int_value("imageMogr2", "iradius", v, 1)),
    "rradius": lambda v: RoundedCorners(int_value("imageMogr2", "rradius", v, 1)),
    "rotate": _rotate,
    "flip": _flip,
    "format": _format,
    "cgif": lambda v: CompressGif(int_value("imageMogr2", "cgif", v, 1, 100)),
    "interlace": _switch("interlace", Interlace),
    "quality": _quality("absolute", "quality"),
    "rquality": _quality("relative", "rquality"),
    "lquality": _quality("lowest", "lquality"),
    "blur": _blur,
    "bright": lambda v: Bright(int_value("imageMogr2", "bright", v, -100, 100)),
    "contrast": lambda v: Contrast(int_value("imageMogr2", "contrast", v, -100, 100)),
    "sharpen": lambda v: Sharpen(int_value("imageMogr2", "sharpen", v, 10, 300)),
    "grayscale": _switch("grayscale", Grayscale),
    "size-limit": _size_limit,
    "ignore-error": _ignore_error,
}


__all__ = ["RuleError", "decode_base64", "parse_rule", "watermark_key"]
