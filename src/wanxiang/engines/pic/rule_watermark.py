"""`watermark/1` (image) and `watermark/2` (text) rule parts -> typed operations."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from wanxiang.engines.pic.operations import ImageWatermark, Operation, TextWatermark
from wanxiang.engines.pic.rule_values import RuleError, color_value, decode_base64, gravity_value, int_value

_IMAGE_KEYS = {
    "image",
    "image_key",
    "gravity",
    "dx",
    "dy",
    "dissolve",
    "batch",
    "spacing",
    "degree",
    "scatype",
    "spcent",
    "blogo",
}
_TEXT_KEYS = {
    "text",
    "font",
    "fontsize",
    "fill",
    "gravity",
    "dx",
    "dy",
    "dissolve",
    "batch",
    "spacing",
    "degree",
    "shadow",
    "scatype",
    "spcent",
}


def parse_watermark(tokens: list[str]) -> Operation:
    if not tokens or tokens[0] not in ("1", "2", "3", "4"):
        raise RuleError("watermark: expected watermark/1 (image) or watermark/2 (text)")
    mode = tokens[0]
    if mode in ("3", "4"):
        raise RuleError(f"watermark/{mode}: blind watermarks are not supported")
    allowed = _IMAGE_KEYS if mode == "1" else _TEXT_KEYS
    params: dict[str, str] = {}
    pairs = tokens[1:]
    for i in range(0, len(pairs), 2):
        name = pairs[i]
        if name not in allowed:
            raise RuleError(f"watermark/{mode}: unknown parameter '{name}'")
        if i + 1 >= len(pairs):
            raise RuleError(f"watermark/{mode}: missing value for '{name}'")
        params[name] = unquote(pairs[i + 1])
    where = f"watermark/{mode}"
    common: dict[str, Any] = {
        "gravity": gravity_value(where, params.get("gravity", "southeast")),
        "dx": int_value(where, "dx", params.get("dx", "0"), 0),
        "dy": int_value(where, "dy", params.get("dy", "0"), 0),
        "dissolve": int_value(where, "dissolve", params.get("dissolve", "90"), 1, 100),
        "batch": int_value(where, "batch", params.get("batch", "0"), 0, 1) == 1,
        "spacing": int_value(where, "spacing", params.get("spacing", "0"), 0),
        "degree": float(int_value(where, "degree", params.get("degree", "0"), 0, 360)),
    }
    if "scatype" in params or "spcent" in params:
        scatype = int_value(where, "scatype", params.get("scatype", "1"), 1, 3)
        common["scatype"] = scatype
        common["spcent"] = int_value(
            where, "spcent", params.get("spcent", "1000"), 1, 250 if scatype == 3 else 1000
        )
    if mode == "1":
        source = params.get("image") or params.get("image_key")
        if not source:
            raise RuleError("watermark/1: missing 'image'")
        blogo = int_value(where, "blogo", params["blogo"], 1, 2) if "blogo" in params else None
        return ImageWatermark(key=watermark_key(decode_base64("image", source)), blogo=blogo, **common)
    if "text" not in params:
        raise RuleError("watermark/2: missing 'text'")
    text = decode_base64("text", params["text"])
    if not text:
        raise RuleError("watermark/2: empty 'text'")
    font = decode_base64("font", params["font"]) if "font" in params else "sans"
    return TextWatermark(
        text=text,
        font=font,
        fontsize=int_value(where, "fontsize", params.get("fontsize", "13"), 1, 1000),
        fill=color_value(where, decode_base64("fill", params["fill"])) if "fill" in params else "#3D3D3D",
        shadow=int_value(where, "shadow", params.get("shadow", "0"), 0, 100),
        **common,
    )


def watermark_key(source: str) -> str:
    """The object key named by a watermark image param: a COS URL's path, or the key itself."""
    if "://" in source:
        return unquote(urlsplit(source).path).lstrip("/")
    return source.lstrip("/")
