"""The ffprobe-like ``MediaInfo`` node CI returns with an Animation job (numbers as strings)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import av.container

from wanxiang.model.tree import Tree


def media_info(container: av.container.InputContainer, size: int, rotation: int) -> Tree:
    """``MediaInfo`` for an open input; ``rotation`` is the clockwise display rotation in degrees."""
    streams = container.streams
    return {
        "Format": _format(container, size),
        "Stream": {
            "Video": [_video(s, rotation) for s in streams.video],
            "Audio": [_audio(s) for s in streams.audio],
            "Subtitle": [{"Index": str(s.index), "Language": _language(s)} for s in streams.subtitles] or "",
        },
    }


def _format(container: av.container.InputContainer, size: int) -> Tree:
    duration = _seconds(container.duration, Fraction(1, av.time_base))
    bitrate = container.bit_rate or (size * 8 / duration if duration else 0)
    return {
        "Bitrate": _float(bitrate / 1000),
        "Duration": _float(duration),
        "FormatLongName": container.format.long_name,
        "FormatName": container.format.name,
        "NumProgram": "0",
        "NumStream": str(len(container.streams)),
        "Size": str(size),
        "StartTime": _float(_seconds(container.start_time, Fraction(1, av.time_base))),
    }


def _video(stream: Any, rotation: int) -> Tree:
    ctx = stream.codec_context
    sar = stream.sample_aspect_ratio or Fraction(1, 1)
    dar = Fraction(ctx.width * sar.numerator, max(1, ctx.height * sar.denominator)) if ctx.height else sar
    return {
        "Index": str(stream.index),
        "CodecName": ctx.name,
        "CodecLongName": ctx.codec.long_name,
        "CodecTimeBase": _ratio(_codec_time_base(stream)),
        **_tag(ctx),
        "ColorPrimaries": _named(_PRIMARIES, getattr(ctx, "color_primaries", None)),
        "ColorRange": _named(_RANGES, getattr(ctx, "color_range", None)),
        "ColorTransfer": _named(_TRANSFERS, getattr(ctx, "color_trc", None)),
        "Profile": stream.profile or "",
        "Width": str(ctx.width),
        "Height": str(ctx.height),
        "HasBFrame": str(1 if ctx.has_b_frames else 0),
        "RefFrames": "1",
        "Sar": _ratio(sar, ":"),
        "Dar": _ratio(dar, ":"),
        "PixFormat": ctx.format.name if ctx.format else "",
        "Level": str(getattr(ctx, "level", "") or ""),
        "Fps": _float(float(stream.guessed_rate or 0)),
        "AvgFps": _ratio(stream.average_rate or stream.guessed_rate or Fraction(0, 1)),
        "Timebase": _ratio(stream.time_base),
        "StartTime": _float(_seconds(stream.start_time, stream.time_base)),
        "Duration": _float(_stream_duration(stream)),
        "Bitrate": _float((ctx.bit_rate or 0) / 1000),
        "NumFrames": str(stream.frames or 0),
        "Language": _language(stream),
        "Rotation": _float(float(rotation)),
    }


def _audio(stream: Any) -> Tree:
    ctx = stream.codec_context
    return {
        "Index": str(stream.index),
        "CodecName": ctx.name,
        "CodecLongName": ctx.codec.long_name,
        "CodecTimeBase": _ratio(Fraction(1, ctx.sample_rate) if ctx.sample_rate else stream.time_base),
        **_tag(ctx),
        "SampleFmt": ctx.format.name if ctx.format else "",
        "SampleRate": str(ctx.sample_rate or 0),
        "Channel": str(ctx.channels or 0),
        "ChannelLayout": ctx.layout.name if ctx.layout else "",
        "Timebase": _ratio(stream.time_base),
        "StartTime": _float(_seconds(stream.start_time, stream.time_base)),
        "Duration": _float(_stream_duration(stream)),
        "Bitrate": _float((ctx.bit_rate or 0) / 1000),
        "Language": _language(stream),
    }


def _tag(ctx: Any) -> Tree:
    tag = ctx.codec_tag or ""
    value = int.from_bytes(tag.encode("latin-1")[:4].ljust(4, b"\0"), "little") if tag else 0
    return {"CodecTagString": tag.strip("\0") or "[0][0][0][0]", "CodecTag": f"0x{value:04x}"}


def _stream_duration(stream: Any) -> float:
    seconds = _seconds(stream.duration, stream.time_base)
    if not seconds and stream.container.duration:
        seconds = stream.container.duration / av.time_base
    return seconds


def _seconds(value: int | None, time_base: Fraction | None) -> float:
    return float(value * time_base) if value is not None and time_base else 0.0


def _float(value: float) -> str:
    return f"{value:.6f}"


def _ratio(value: Fraction | None, sep: str = "/") -> str:
    if value is None:
        return f"0{sep}1"
    return f"{value.numerator}{sep}{value.denominator}"


# FFmpeg's names for the common values (av_color_*_name), as ffprobe prints them.
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020"}
_TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    8: "linear",
    13: "iec61966-2-1",
    14: "bt2020-10",
    16: "smpte2084",
    18: "arib-std-b67",
}
_RANGES = {1: "tv", 2: "pc"}


def _named(names: dict[int, str], value: Any) -> str:
    try:
        return names.get(int(value), "unknown")
    except (TypeError, ValueError):
        return "unknown"


def _language(stream: Any) -> str:
    return str(stream.metadata.get("language", "und"))


def _codec_time_base(stream: Any) -> Fraction:
    # ffprobe's codec_time_base for video is 1/(2*fps) for H.264-style field timing; 1/fps is close enough.
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate.denominator, rate.numerator) if rate else stream.time_base
