"""Encoding sampled frames into an animated GIF (two passes: palettegen, then paletteuse) or WebP.

Frames flow through FFmpeg filter graphs one at a time and packets go straight to the output file,
so memory stays flat however long the video is (libwebp's animation encoder is the one exception: it
keeps the compressed frames until the end, which is bounded by the output size, not the input's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.filter

from wanxiang.engines.animation.geometry import rotation_filters

# Frames enter the graphs re-timed on the output timeline, in milliseconds.
_MS = Fraction(1, 1000)
_GIF_TICK = Fraction(1, 100)  # GIF frame delays are centiseconds
_STATS_SIDE = 360


@dataclass(frozen=True)
class Look:
    """How frames are turned into pixels of the animation."""

    size: tuple[int, int]
    rotation: int
    fps: float  # playback rate
    high_quality: bool = False  # hgif: full 24-bit colour palette and mapping (gif: 16-bit), lanczos scaling
    quality: float = 75.0  # WebP


Frames = Callable[[], Iterable[av.VideoFrame]]  # a fresh pass over the sampled frames each call


def write_gif(frames: Frames, look: Look, path: Path) -> int:
    """Write the GIF at ``path``; returns the number of frames written (0 = nothing was sampled)."""
    palette = _palette(frames(), look)
    if palette is None:
        return 0
    # The last frame has no successor to measure its delay to; without final_delay the muxer guesses.
    final_delay = str(max(1, round(100 / look.fps)))
    with av.open(str(path), mode="w", format="gif", options={"final_delay": final_delay}) as output:
        stream = output.add_stream("gif")
        stream.width, stream.height = look.size
        stream.pix_fmt = "pal8"
        stream.time_base = _GIF_TICK
        stream.codec_context.time_base = _GIF_TICK
        count = 0
        for frame in _dithered(frames(), palette, look):
            frame.pts = round(count * 100 / look.fps)
            frame.time_base = _GIF_TICK
            output.mux(stream.encode(frame))
            count += 1
        output.mux(stream.encode(None))
    return count


def write_webp(frames: Frames, look: Look, path: Path) -> int:
    """Write an animated WebP at ``path``; returns the number of frames written."""
    count = 0
    # The webp muxer plays once unless told loop=0 (forever), which is what a GIF does.
    with av.open(str(path), mode="w", format="webp", options={"loop": "0"}) as output:
        stream = output.add_stream("libwebp_anim", options={"quality": f"{look.quality:g}", "lossless": "0"})
        stream.width, stream.height = look.size
        stream.pix_fmt = "yuv420p"
        stream.time_base = _MS
        stream.codec_context.time_base = _MS
        for frame in _through(frames(), look, [("format", "yuv420p")]):
            frame.pts = round(count * 1000 / look.fps)
            frame.duration = round((count + 1) * 1000 / look.fps) - frame.pts
            frame.time_base = _MS
            output.mux(stream.encode(frame))
            count += 1
        output.mux(stream.encode(None))
    return count


def _palette(frames: Iterable[av.VideoFrame], look: Look) -> av.VideoFrame | None:
    """Pass 1: FFmpeg's palettegen over every sampled frame (only its colour histogram is kept)."""
    # stats_mode=diff would favour moving parts, but it loses colours of backgrounds that change slowly
    # (fades, pans) between sampled frames; whole-frame statistics are the safe default for both kinds.
    palettegen = ("palettegen", "max_colors=256:stats_mode=full")
    out = list(_through(frames, look, [*_stats_steps(look), palettegen]))
    return out[-1] if out else None


def _dithered(frames: Iterable[av.VideoFrame], palette: av.VideoFrame, look: Look) -> Iterator[av.VideoFrame]:
    """Pass 2: map each frame onto the palette with paletteuse."""
    # Ordered (bayer) dithering: on video it scores higher SSIM than error diffusion (sierra2_4a: 0.76 vs
    # 0.83 on the bench clip), makes smaller files, and does not shimmer from frame to frame.
    dither = "bayer:bayer_scale=4"
    graph: _Chain | None = None
    for frame in frames:
        if graph is None:
            graph = _Chain(frame, look, _mapped_steps(look), palette=(palette, f"dither={dither}"))
        yield from graph.push(frame)
    if graph is not None:
        yield from graph.push(None)


def _stats_steps(look: Look) -> list[tuple[str, str]]:
    """What palettegen sees. Textured video has ~a million distinct 24-bit colours, which makes the median
    cut 10-15x slower: gif counts 16-bit colour; hgif counts full colour on a copy at most 360 px across."""
    if look.high_quality:
        fit = f"w='min(iw,{_STATS_SIDE})':h='min(ih,{_STATS_SIDE})'"
        return [("scale", f"{fit}:force_original_aspect_ratio=decrease:flags=area")]
    return [("format", "rgb565")]


def _mapped_steps(look: Look) -> list[tuple[str, str]]:
    """What paletteuse maps: gif 16-bit colour (its colour cache then stays small, ~4x faster); hgif full
    colour (bench clip: SSIM 0.840 vs 0.831, and smaller files)."""
    return [] if look.high_quality else [("format", "rgb565")]


def _through(
    frames: Iterable[av.VideoFrame], look: Look, tail: list[tuple[str, str]]
) -> Iterator[av.VideoFrame]:
    graph: _Chain | None = None
    for frame in frames:
        if graph is None:
            graph = _Chain(frame, look, tail)
        yield from graph.push(frame)
    if graph is not None:
        yield from graph.push(None)


class _Chain:
    """buffer -> upright -> scale -> tail [-> paletteuse(palette)] -> buffersink, shaped by the first frame."""

    def __init__(
        self,
        first: av.VideoFrame,
        look: Look,
        tail: list[tuple[str, str]],
        palette: tuple[av.VideoFrame, str] | None = None,
    ) -> None:
        self.graph = av.filter.Graph()
        self.look = look
        self.index = 0
        self.source = self.graph.add_buffer(
            width=first.width, height=first.height, format=first.format, time_base=_MS
        )
        width, height = look.size
        flags = "lanczos" if look.high_quality else "bicubic"
        steps = [*rotation_filters(look.rotation), ("scale", f"w={width}:h={height}:flags={flags}"), *tail]
        node = self.source
        for name, args in steps:
            step = self.graph.add(name, args)
            node.link_to(step)
            node = step
        if palette is not None:
            node = self._paletteuse(node, *palette)
        self.sink = self.graph.add("buffersink")
        node.link_to(self.sink)
        self.graph.configure()
        if palette is not None:
            self.palette_source.push(palette[0])
            self.palette_source.push(None)

    def _paletteuse(
        self, node: av.filter.context.FilterContext, palette: av.VideoFrame, args: str
    ) -> av.filter.context.FilterContext:
        self.palette_source = self.graph.add_buffer(
            width=palette.width, height=palette.height, format=palette.format, time_base=_MS
        )
        use = self.graph.add("paletteuse", args)
        node.link_to(use, 0, 0)
        self.palette_source.link_to(use, 0, 1)
        return use

    def push(self, frame: av.VideoFrame | None) -> Iterator[av.VideoFrame]:
        if frame is not None:
            # Re-time on the output timeline so paletteuse pairs every frame with the (pts 0) palette.
            frame.pts = round(self.index * 1000 / self.look.fps)
            frame.time_base = _MS
            self.index += 1
        self.source.push(frame)
        while True:
            try:
                out = self.sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            if isinstance(out, av.VideoFrame):
                yield out
