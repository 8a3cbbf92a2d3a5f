"""The Animation engine: a video object in, an animated GIF or WebP object out (CI ``Tag=Animation``)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import av

from wanxiang.engines.animation.encode import Look, write_gif, write_webp
from wanxiang.engines.animation.geometry import display_size, output_size
from wanxiang.engines.animation.media_info import media_info
from wanxiang.engines.animation.params import DEFAULT_WEBP_QUALITY, AnimationParams, parse_animation
from wanxiang.engines.animation.sampling import output_fps, sampling_rate, window_of
from wanxiang.engines.animation.source import SourceFacts, open_input, probe, sampled_frames
from wanxiang.engines.base import EngineJob, JobIO
from wanxiang.model.errors import CIError, JobFailure
from wanxiang.model.tree import Tree, child, text

_WILDCARD = re.compile(r"\$\{(ext|jobid)\}", re.IGNORECASE)


class AnimationEngine:
    """Runs ``Animation`` jobs: decode, sample, scale, palette, encode, store."""

    tag = "Animation"

    def run(self, job: EngineJob, io: JobIO) -> Tree:
        params = _params(job.operation)
        bucket = text(job.operation, "Output", "Bucket") or None
        region = text(job.operation, "Output", "Region") or job.region
        key = output_key(text(job.operation, "Output", "Object"), params.ext, job.job_id)
        source_path = io.input_path()
        with open_input(source_path) as container:
            facts = probe(container)
            info = media_info(container, source_path.stat().st_size, (-facts.rotation) % 360)
        _check_window(params, facts)
        io.progress(1)
        out_path = io.temp_dir() / f"animation.{params.ext}"
        try:
            render(source_path, params, facts, out_path, io.progress)
        except av.FFmpegError as exc:
            raise JobFailure("InternalError", f"encoding the animation failed: {exc}") from None
        stored = io.write_object(key, out_path, params.content_type, bucket=bucket)
        io.progress(100)
        return {
            "MediaInfo": info,
            "MediaResult": {
                "OutputFile": {
                    "Bucket": stored.bucket,
                    "Region": region,
                    "ObjectName": stored.key,
                    "Md5Info": {"Md5": _md5(out_path), "ObjectName": stored.key},
                }
            },
        }


def output_key(template: str, ext: str, job_id: str) -> str:
    """The output object key with CI's ``${ext}`` / ``${jobid}`` wildcards (any letter case) filled in."""
    if not template:
        raise JobFailure("InvalidArgument", "Operation.Output.Object is required")
    return _WILDCARD.sub(lambda m: ext if m.group(1).lower() == "ext" else job_id, template)


def render(
    source: Path,
    params: AnimationParams,
    facts: SourceFacts,
    out_path: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Encode the animation of ``source`` at ``out_path``; returns its frame count (fails on zero)."""
    fps = output_fps(params, facts.fps)
    look = Look(
        size=output_size(
            display_size(facts.width, facts.height, facts.rotation), params.width, params.height
        ),
        rotation=facts.rotation,
        fps=fps,
        high_quality=params.format == "hgif",
        quality=params.quality or DEFAULT_WEBP_QUALITY,
    )
    window = window_of(params)
    rate = sampling_rate(params, fps)
    passes = 1 if params.format == "webp" else 2
    span = min(window.end, facts.duration or window.end) - window.start
    reporter = _Reporter(progress, passes, span)

    def frames() -> Iterable[av.VideoFrame]:
        reporter.next_pass()
        return sampled_frames(source, window, rate, reporter)

    write = write_webp if params.format == "webp" else write_gif
    count = write(frames, look, out_path)
    if count == 0:
        raise JobFailure("InvalidArgument", "no video frame falls inside Animation.TimeInterval")
    return count


def _params(operation: Tree) -> AnimationParams:
    try:
        return parse_animation(child(operation, "Animation") or {})
    except CIError as exc:
        raise JobFailure(exc.code, exc.message) from None


def _check_window(params: AnimationParams, facts: SourceFacts) -> None:
    if facts.duration and params.start >= facts.duration:
        raise JobFailure(
            "InvalidArgument",
            f"Animation.TimeInterval.Start {params.start:g} is past the end of the video ({facts.duration:g} s)",
        )


class _Reporter:
    """Turns per-pass decode fractions into whole-job percentages, called back once per decoded frame."""

    def __init__(self, progress: Callable[[int], None] | None, passes: int, span: float) -> None:
        self.progress = progress
        self.span = span if 0 < span < math.inf else 0.0
        self.passes = passes
        self.done_passes = -1
        self.last = -1

    def next_pass(self) -> None:
        self.done_passes += 1

    def __call__(self, seconds: float) -> None:
        if self.progress is None:
            return
        if self.span:
            fraction = min(1.0, seconds / self.span)
            # 2..98: the ends belong to probing and storing.
            self.last = max(self.last, 2 + int(96 * (self.done_passes + fraction) / self.passes))
        # Every frame, not only when the value moves: this is where a cancelled job stops.
        self.progress(max(self.last, 2))


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
