"""Value parsing shared by the rule parsers: integers in range, gravity, colours, Base64."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from wanxiang.engines.pic.operations import GRAVITIES


class RuleError(ValueError):
    """A ProcessRule that cannot be parsed; the message names the bad part."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_base64(name: str, value: str) -> str:
    """URL-safe Base64 with or without `=` padding, as CI params carry it."""
    text = value.strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.b64decode(
            text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4), altchars=b"-_", validate=True
        )
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise RuleError(f"'{name}' is not valid URL-safe Base64: '{value}'") from None


def int_value(where: str, name: str, value: str, low: int | None = None, high: int | None = None) -> int:
    if not re.fullmatch(r"-?\d+", value):
        raise RuleError(f"{where}: bad {name} '{value}' (expected an integer)")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{'' if low is None else low}-{'' if high is None else high}"
        raise RuleError(f"{where}: {name} '{value}' out of range {bounds}")
    return number


def gravity_value(where: str, value: str) -> Any:
    gravity = value.lower()
    if gravity not in GRAVITIES:
        raise RuleError(f"{where}: bad gravity '{value}'")
    return gravity


def color_value(where: str, value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise RuleError(f"{where}: bad colour '{value}' (expected #RRGGBB)")
    return value.upper()
