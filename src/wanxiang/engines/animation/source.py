"""Reading the input video: opening it, probing it, and streaming the sampled frames (one at a time)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.container
from av.video.stream import VideoStream

from wanxiang.engines.animation.geometry import normalise_rotation
from wanxiang.engines.animation.sampling import FrameSampler, Window
from wanxiang.model.errors import JobFailure

Progress = Callable[[float], None]  # seconds of the window decoded so far


@dataclass(frozen=True)
class SourceFacts:
    """What the plan needs to know about the input before decoding it in full."""

    width: int
    height: int
    fps: float | None
    duration: float  # seconds, 0 when the container does not say
    rotation: int  # counter-clockwise display rotation of the coded pictures


def open_input(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise JobFailure("InvalidInput", f"the input is not a readable media file: {exc}") from None


def video_stream(container: av.container.InputContainer) -> VideoStream:
    if not container.streams.video:
        raise JobFailure("UnsupportedMedia", "the input has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def probe(container: av.container.InputContainer) -> SourceFacts:
    """Facts about the first video stream; decodes its first frame to learn the display rotation."""
    stream = video_stream(container)
    rate = stream.average_rate or stream.guessed_rate
    first = _first_frame(container, stream)
    return SourceFacts(
        width=first.width,
        height=first.height,
        fps=float(rate) if rate else None,
        duration=_duration(container, stream),
        rotation=normalise_rotation(first.rotation or 0),
    )


def sampled_frames(
    path: Path, window: Window, rate: float | None, progress: Progress | None = None
) -> Iterator[av.VideoFrame]:
    """The frames of ``window`` that the sampler keeps, in order; nothing more than one frame is held."""
    with open_input(path) as container:
        stream = video_stream(container)
        if rate is None:
            # Key frames only: the decoder can skip everything else, far cheaper than decoding and dropping.
            stream.codec_context.skip_frame = "NONKEY"
        origin = _origin(stream)
        _seek(container, stream, origin + window.start)
        sampler = FrameSampler(window, rate)
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                t = frame.time - origin
                if window.past(t):
                    break
                if sampler.keep(t, bool(frame.key_frame)):
                    yield frame
                if progress is not None:
                    progress(max(0.0, t - window.start))
        except av.FFmpegError as exc:
            raise JobFailure("InvalidInput", f"the input video could not be decoded: {exc}") from None


def _first_frame(container: av.container.InputContainer, stream: VideoStream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as exc:
        raise JobFailure("InvalidInput", f"the input video could not be decoded: {exc}") from None
    raise JobFailure("InvalidInput", "the input video has no decodable frame")


def _duration(container: av.container.InputContainer, stream: VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _origin(stream: VideoStream) -> float:
    if stream.start_time is None or not stream.time_base:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _seek(container: av.container.InputContainer, stream: VideoStream, seconds: float) -> None:
    if seconds <= 0 or not stream.time_base:
        return
    # Unseekable inputs still work: the sampler drops the frames before the window.
    with contextlib.suppress(av.FFmpegError):
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
