"""Animation parameters: the ``Operation/Animation`` tree read into typed values, checked as CI checks them.

Everything here is pure: the same function serves submit-time validation (raising ``CIError``) and the
engine (which turns the same error into a Failed job).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wanxiang.model.errors import invalid_argument
from wanxiang.model.tree import Tree, is_true, text

FORMATS = ("gif", "hgif", "webp")
MIN_SIDE = 128
MAX_SIDE = 4096
MAX_FPS = 60.0
DEFAULT_WEBP_QUALITY = 75.0


@dataclass(frozen=True)
class AnimationParams:
    """One Animation job's settings; ``None`` means "not given, use the source's value"."""

    format: str  # gif | hgif | webp
    width: int | None = None
    height: int | None = None
    fps: float | None = None  # playback rate, already capped at 60
    only_key_frames: bool = False
    interval_of_frame: float | None = None  # seconds between sampled frames
    frames_per_second: float | None = None  # sampled frames per second
    quality: float | None = None  # WebP only
    start: float = 0.0
    duration: float | None = None

    @property
    def ext(self) -> str:
        return "webp" if self.format == "webp" else "gif"

    @property
    def content_type(self) -> str:
        return "image/webp" if self.format == "webp" else "image/gif"


def validate_animation(params: Tree) -> None:
    """Reject, at submit time, Animation parameters CI would refuse; raises ``CIError`` (InvalidArgument)."""
    parse_animation(params)


def parse_animation(params: Tree) -> AnimationParams:
    """The typed parameters of an ``Animation`` tree; raises ``CIError`` naming the bad field."""
    fmt = text(params, "Container", "Format").strip().lower()
    if fmt not in FORMATS:
        raise invalid_argument("Animation.Container.Format must be one of gif, hgif, webp")
    codec = text(params, "Video", "Codec").strip().lower()
    if codec and codec not in ("gif", "webp"):
        raise invalid_argument("Animation.Video.Codec must be gif or webp")
    fps = _number(params, "Video", "Fps", high=MAX_FPS, open_low=True)
    parsed = AnimationParams(
        format=fmt,
        width=_side(params, "Width"),
        height=_side(params, "Height"),
        fps=fps,
        only_key_frames=is_true(text(params, "Video", "AnimateOnlyKeepKeyFrame")),
        interval_of_frame=_number(params, "Video", "AnimateTimeIntervalOfFrame", open_low=True),
        frames_per_second=_number(params, "Video", "AnimateFramesPerSecond", open_low=True),
        quality=_quality(params),
        start=_number(params, "TimeInterval", "Start") or 0.0,
        duration=_number(params, "TimeInterval", "Duration"),
    )
    interval, duration = parsed.interval_of_frame, parsed.duration
    if interval and duration and interval >= duration:
        raise invalid_argument(
            "Animation.Video.AnimateTimeIntervalOfFrame must be less than Animation.TimeInterval.Duration"
        )
    return parsed


def _side(params: Tree, name: str) -> int | None:
    value = _number(params, "Video", name, low=MIN_SIDE, high=MAX_SIDE)
    if value is None:
        return None
    if value != int(value):
        raise invalid_argument(f"Animation.Video.{name} must be in [{MIN_SIDE}, {MAX_SIDE}]")
    return int(value)


def _quality(params: Tree) -> float | None:
    return _number(params, "Video", "Quality", low=1.0, high=100.0, open_high=True)


def _number(
    params: Tree,
    *path: str,
    low: float = 0.0,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float | None:
    """The number at ``path`` or None when absent/empty; out-of-range messages name the field and range."""
    raw = text(params, *path).strip()
    if not raw:
        return None
    field = "Animation." + ".".join(path)
    try:
        value = float(raw)
    except ValueError:
        raise invalid_argument(f"{field} must be a number, got {raw!r}") from None
    below = value < low or (open_low and value == low)
    above = high is not None and (value > high or (open_high and value == high))
    if not math.isfinite(value) or below or above:
        left = "(" if open_low else "["
        right = "+inf)" if high is None else f"{high:g}{')' if open_high else ']'}"
        raise invalid_argument(f"{field} must be in {left}{low:g}, {right}")
    return value
