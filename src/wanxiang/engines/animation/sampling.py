"""Which decoded frames become animation frames: pure decisions on frame times and key-frame flags."""

from __future__ import annotations

import math
from dataclasses import dataclass

from wanxiang.engines.animation.params import MAX_FPS, AnimationParams

# Frame times come from integer pts in odd time bases; a frame a hair before its slot still belongs to it.
_SLACK = 1e-3


@dataclass(frozen=True)
class Window:
    """The part of the video to animate, in seconds from the video's first frame."""

    start: float
    end: float  # math.inf = to the end of the video

    def before(self, t: float) -> bool:
        return t < self.start - _SLACK

    def past(self, t: float) -> bool:
        return t >= self.end - _SLACK


def window_of(params: AnimationParams) -> Window:
    # Duration 0 is inside CI's documented range [0, duration]; read it as "not given" rather than "nothing".
    if params.duration is None or params.duration <= 0:
        return Window(params.start, math.inf)
    return Window(params.start, params.start + params.duration)


def output_fps(params: AnimationParams, source_fps: float | None) -> float:
    """Playback rate: the given Fps, else the source's, never above 60."""
    if params.fps is not None:
        return min(params.fps, MAX_FPS)
    if source_fps and source_fps > 0:
        return min(source_fps, MAX_FPS)
    return 10.0


def sampling_rate(params: AnimationParams, playback_fps: float) -> float | None:
    """Frames sampled per second of video, or None for "key frames only" (CI's priority order)."""
    if params.frames_per_second:
        return params.frames_per_second
    if params.only_key_frames:
        return None
    if params.interval_of_frame:
        return 1.0 / params.interval_of_frame
    return playback_fps


class FrameSampler:
    """Keeps the first frame at or after each sampling slot (slot k at ``start + k / rate``); never repeats one."""

    def __init__(self, window: Window, rate: float | None) -> None:
        self.window = window
        self.rate = rate
        self._next_slot = 0

    def keep(self, t: float, key_frame: bool) -> bool:
        if self.window.before(t) or self.window.past(t):
            return False
        if self.rate is None:
            return key_frame
        offset = (t - self.window.start) * self.rate
        if offset + _SLACK * self.rate < self._next_slot:
            return False
        self._next_slot = math.floor(offset + _SLACK * self.rate) + 1
        return True
